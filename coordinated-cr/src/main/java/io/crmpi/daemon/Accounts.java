package io.crmpi.daemon;

import io.crmpi.nativeio.Posix;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntFunction;
import java.util.function.LongSupplier;

/**
 * The user database as crmpid sees its callers: a user's name, primary
 * group and supplementary groups by uid, each looked up at most once per
 * {@link #TTL_NANOS} (as nscd would), so that a request made while a job's
 * ranks stand frozen does not wait on NSS. A change to a user's groups
 * reaches crmpid within that time; a uid without an account is looked up
 * again every time.
 */
final class Accounts {
  static final long TTL_NANOS = 10_000_000_000L;

  private record Entry(Posix.Account account, long loadedAt) {}

  private final IntFunction<Optional<Posix.Account>> lookup;
  private final LongSupplier nanoTime;
  private final Map<Integer, Entry> cache = new ConcurrentHashMap<>();

  Accounts(IntFunction<Optional<Posix.Account>> lookup, LongSupplier nanoTime) {
    this.lookup = lookup;
    this.nanoTime = nanoTime;
  }

  /** The system's user database, through getpwuid_r and getgrouplist. */
  static Accounts system() {
    return new Accounts(Posix::account, System::nanoTime);
  }

  /** The account of uid; empty when the user database has none. */
  Optional<Posix.Account> byUid(int uid) {
    long now = nanoTime.getAsLong();
    Entry e = cache.get(uid);
    if (e != null && now - e.loadedAt() < TTL_NANOS) {
      return Optional.of(e.account());
    }
    Optional<Posix.Account> found = lookup.apply(uid);
    found.ifPresentOrElse(a -> cache.put(uid, new Entry(a, now)), () -> cache.remove(uid));
    return found;
  }
}
