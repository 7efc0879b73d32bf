package io.crmpi.remote;

import io.crmpi.nativeio.Posix;
import io.crmpi.store.NodeLocalLevel;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.stream.Stream;

/**
 * What a partner copy costs next to the disk: a node's part of an epoch
 * (4 files of random bytes) is copied to a partner port and fetched back,
 * both ends in this JVM over loopback, on the same disk; beside it, the
 * same bytes read back from the disk (page cache dropped first) and
 * written with an fsync, the physical bounds. Prints one markdown row per
 * size (scripts/benchmark-partner.sh).
 *
 * <p>usage: PartnerBenchmark DIR SIZES_MIB(comma-separated) RUNS
 */
public final class PartnerBenchmark {
  private static final String KEY = "benchmark-key-".repeat(4);

  private PartnerBenchmark() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    int runs = Integer.parseInt(args[2]);
    for (String size : args[1].split(",")) {
      row(dir, Integer.parseInt(size), runs);
    }
  }

  private static void row(Path dir, int mib, int runs) throws Exception {
    Path part = dir.resolve("part-" + mib);
    writePart(part, mib);
    Path holderRoot = Files.createDirectories(dir.resolve("holder-" + mib));
    NodeLocalLevel holder = NodeLocalLevel.of(holderRoot, Posix.uid(), "bench");
    holder.prepare(Posix.uid());
    List<Double> read = new ArrayList<>();
    List<Double> write = new ArrayList<>();
    List<Double> put = new ArrayList<>();
    List<Double> get = new ArrayList<>();
    try (PartnerPort port = PartnerPort.listen(InetAddress.getLoopbackAddress(), KEY, holder.jobDir(), "bench")) {
      for (int r = 0; r <= runs; r++) { // run 0 warms the JVM up
        dropCache(part);
        long t = System.nanoTime();
        readAll(part);
        double readS = seconds(t);
        t = System.nanoTime();
        Path written = writeFsync(part, dir.resolve("dd-" + mib));
        double writeS = seconds(t);
        Files.delete(written);
        dropCache(part);
        t = System.nanoTime();
        PartnerLink.put(port.endpoint(), KEY, "node0", r + 1, part);
        double putS = seconds(t);
        dropCache(holder.partnerDir("node0", r + 1));
        Path target = dir.resolve("fetched-" + mib + "-" + r);
        t = System.nanoTime();
        PartnerLink.get(port.endpoint(), KEY, "node0", r + 1, target);
        double getS = seconds(t);
        deleteTree(target);
        if (r > 0) {
          read.add(readS);
          write.add(writeS);
          put.add(putS);
          get.add(getS);
        }
      }
    }
    double readMin = read.stream().mapToDouble(d -> d).min().orElse(0);
    System.out.printf(Locale.ROOT, "| %d MiB | %s | %s | %s | %s | %s |%n", mib, list(read), list(write), list(put),
        list(get), list(get.stream().map(g -> g / (1.2 * readMin + 1)).toList()));
    deleteTree(part);
    deleteTree(holderRoot);
  }

  private static String list(List<Double> values) {
    return String.join(" ", values.stream().map(v -> String.format(Locale.ROOT, "%.2f", v)).toList());
  }

  private static double seconds(long start) {
    return (System.nanoTime() - start) / 1e9;
  }

  private static void writePart(Path part, int mib) throws IOException {
    Path image = Files.createDirectories(part.resolve("image"));
    Random random = new Random(mib);
    byte[] block = new byte[1 << 20];
    for (int f = 0; f < 4; f++) {
      try (OutputStream out = Files.newOutputStream(image.resolve("pages-" + f + ".img"))) {
        for (int i = 0; i < mib / 4; i++) {
          random.nextBytes(block);
          out.write(block);
        }
      }
    }
  }

  private static List<Path> files(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      return s.filter(Files::isRegularFile).sorted().toList();
    }
  }

  private static void dropCache(Path root) throws IOException {
    for (Path f : files(root)) {
      try (FileChannel c = FileChannel.open(f, StandardOpenOption.WRITE)) {
        c.force(true); // dirty pages cannot be dropped
      }
      Posix.dropFromPageCache(f);
    }
  }

  private static void readAll(Path root) throws IOException {
    byte[] b = new byte[1 << 20];
    for (Path f : files(root)) {
      try (InputStream in = Files.newInputStream(f)) {
        while (in.read(b) >= 0) {
          // read through
        }
      }
    }
  }

  /** The part's bytes written once more into a file of their own, with an fsync (dd conv=fsync). */
  private static Path writeFsync(Path root, Path to) throws IOException {
    byte[] b = new byte[1 << 20];
    try (FileChannel out = FileChannel.open(to, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      for (Path f : files(root)) {
        try (InputStream in = Files.newInputStream(f)) {
          for (int n; (n = in.read(b)) > 0; ) {
            out.write(java.nio.ByteBuffer.wrap(b, 0, n));
          }
        }
      }
      out.force(true);
    }
    return to;
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
