package io.crmpi.daemon;

import java.io.IOException;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The images crmpid has made durable (persist) and not yet sealed, one per
 * tree of a caller: the descriptors opened right after the dump, which the
 * seal digests. An image outlives its tree (a rank may die between the
 * commit and the seal: the epoch is still sealed), is replaced by the
 * tree's next persisted image, and is closed unsealed when its seal does
 * not come within {@link #EXPIRY} (the job's coordinator is gone: its
 * epoch is never restored).
 */
final class UnsealedImages {
  /** How long a persisted image waits for its seal. */
  static final Duration EXPIRY = Duration.ofMinutes(15);

  /** A persisted image of epoch, waiting since (nanoTime). */
  record Entry(long epoch, PendingImage image, Map<String, String> attributes, long since) {
    Entry {
      attributes = Map.copyOf(attributes);
    }
  }

  private final Map<String, Entry> images = new ConcurrentHashMap<>();
  private final LongSupplier nanoTime;

  UnsealedImages(LongSupplier nanoTime) {
    this.nanoTime = nanoTime;
  }

  /** Keeps image for its seal under key (a caller's tree), closing the one it replaces and any expired. */
  void put(String key, long epoch, PendingImage image, Map<String, String> attributes) {
    expire();
    Entry old = images.put(key, new Entry(epoch, image, attributes, nanoTime.getAsLong()));
    if (old != null) {
      old.image().close();
    }
  }

  /** Takes the image of epoch kept under key; the caller seals and closes it. */
  Entry take(String key, long epoch) throws IOException {
    Entry e = images.get(key);
    if (e == null || e.epoch() != epoch || !images.remove(key, e)) {
      throw new IOException("there is no persisted image of epoch " + epoch + " to seal"
          + (e == null ? "" : " (the newest is of epoch " + e.epoch() + ")")
          + "; it was never persisted here, was sealed already, or waited longer than " + EXPIRY.toMinutes()
          + " minutes");
    }
    return e;
  }

  /** How many images wait for their seal. */
  int size() {
    return images.size();
  }

  /** Closes every image waiting (crmpid is stopping). */
  void closeAll() {
    for (Iterator<Entry> it = images.values().iterator(); it.hasNext(); ) {
      Entry e = it.next();
      it.remove();
      e.image().close();
    }
  }

  private void expire() {
    long now = nanoTime.getAsLong();
    images.entrySet().removeIf(e -> {
      boolean expired = now - e.getValue().since() > EXPIRY.toNanos();
      if (expired) {
        e.getValue().image().close();
      }
      return expired;
    });
  }
}
