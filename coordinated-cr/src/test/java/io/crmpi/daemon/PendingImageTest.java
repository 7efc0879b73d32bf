package io.crmpi.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.crmpi.nativeio.Posix;
import io.crmpi.store.FileDigest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The seal's digests: every file CRIU wrote, by name, from the descriptors opened at capture. */
class PendingImageTest {
  @TempDir Path dir;

  @Test
  void syncsEveryFileWithoutDigestsThenDigestsEveryFileByName() throws Exception {
    Random random = new Random(11);
    int[] sizes = {0, 1, 4096, 3 << 20, 17, (5 << 20) + 3, 200_000};
    for (int i = 0; i < sizes.length; i++) {
      byte[] b = new byte[sizes[i]];
      random.nextBytes(b);
      Files.write(dir.resolve((i % 2 == 0 ? "pages-" : "core-") + i + ".img"), b);
    }
    int gid = (Integer) Files.getAttribute(dir, "unix:gid");
    List<FileDigest> synced;
    List<FileDigest> digests;
    try (PendingImage image = PendingImage.capture(Posix.openDirectory(dir), Posix.uid(), gid)) {
      synced = image.sync();
      digests = image.digest();
    }
    assertEquals(digests.stream().map(d -> FileDigest.unsealed(d.path(), d.size())).toList(), synced,
        "the persist's answer: every file by name with its size, no digest yet");

    List<String> names;
    try (var s = Files.list(dir)) {
      names = s.map(p -> p.getFileName().toString()).sorted().toList();
    }
    assertEquals(names, digests.stream().map(FileDigest::path).toList(), "every file, sorted by name");
    for (FileDigest d : digests) {
      byte[] b = Files.readAllBytes(dir.resolve(d.path()));
      assertEquals(b.length, d.size(), d.path());
      assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b)), d.sha256(), d.path());
    }
  }
}
