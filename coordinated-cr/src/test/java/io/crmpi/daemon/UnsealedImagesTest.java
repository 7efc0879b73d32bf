package io.crmpi.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crmpi.nativeio.Posix;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The persisted images that wait for their seal: one per caller's tree, taken once, closed when they expire. */
class UnsealedImagesTest {
  @TempDir Path dir;
  long now = 0;
  final UnsealedImages images = new UnsealedImages(() -> now);

  private PendingImage image(String name) throws IOException {
    Path d = Files.createDirectories(dir.resolve(name));
    Files.writeString(d.resolve("pages-1.img"), name);
    return PendingImage.capture(Posix.openDirectory(d), Posix.uid(), (Integer) Files.getAttribute(d, "unix:gid"));
  }

  @Test
  void anImageIsTakenOnceForItsEpochOnly() throws IOException {
    PendingImage i = image("a");
    images.put("1000/job/n0", 4, i, Map.of("k", "v"));
    IOException wrong = assertThrows(IOException.class, () -> images.take("1000/job/n0", 5));
    assertTrue(wrong.getMessage().contains("no persisted image of epoch 5") && wrong.getMessage().contains("epoch 4"),
        wrong.getMessage());
    assertThrows(IOException.class, () -> images.take("1001/job/n0", 4), "another caller's key");
    UnsealedImages.Entry e = images.take("1000/job/n0", 4);
    assertSame(i, e.image());
    assertEquals(Map.of("k", "v"), e.attributes());
    assertThrows(IOException.class, () -> images.take("1000/job/n0", 4), "sealed once");
    i.close();
  }

  @Test
  void theNextImageOfATreeReplacesItsUnsealedOneAndAnExpiredOneIsClosed() throws IOException {
    PendingImage first = image("a");
    images.put("k", 1, first, Map.of());
    images.put("k", 2, image("b"), Map.of());
    assertThrows(IOException.class, first::bytes, "the replaced image's descriptors must be closed");
    assertEquals(1, images.size());
    PendingImage other = image("c");
    images.put("other", 7, other, Map.of());
    now += UnsealedImages.EXPIRY.plus(Duration.ofSeconds(1)).toNanos();
    PendingImage fresh = image("d");
    images.put("third", 1, fresh, Map.of());
    assertThrows(IOException.class, other::bytes, "an image that waited past the expiry must be closed");
    assertEquals(1, images.size(), "only the fresh image waits");
    images.closeAll();
    assertThrows(IOException.class, fresh::bytes);
    assertEquals(0, images.size());
  }
}
