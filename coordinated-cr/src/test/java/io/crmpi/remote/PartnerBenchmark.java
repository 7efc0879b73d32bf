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
    List<Double> plain = new ArrayList<>();
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
        // The copy just made holds pages the fetch would otherwise take fresh from the host (see below).
        touchPages(mib, dir.resolve("touch-" + mib));
        dropCache(holder.partnerDir("node0", r + 1));
        Path target = dir.resolve("fetched-" + mib + "-" + r);
        t = System.nanoTime();
        PartnerLink.get(port.endpoint(), KEY, "node0", r + 1, target);
        double getS = seconds(t);
        deleteTree(target);
        dropCache(holder.partnerDir("node0", r + 1));
        Path plainTarget = dir.resolve("plain-" + mib + "-" + r);
        t = System.nanoTime();
        plainCopy(holder.partnerDir("node0", r + 1), plainTarget);
        double plainS = seconds(t);
        deleteTree(plainTarget);
        // Every run frees what it wrote: on a VM whose memory the host backs at first touch, a write
        // into pages never used before is several times slower than one into pages just freed, and
        // a copy kept from each run would make every later write pay that.
        deleteTree(holder.partnerDir("node0", r + 1));
        if (r > 0) {
          plain.add(plainS);
          read.add(readS);
          write.add(writeS);
          put.add(putS);
          get.add(getS);
        }
      }
    }
    double readMin = read.stream().mapToDouble(d -> d).min().orElse(0);
    System.out.printf(Locale.ROOT, "| %d MiB | %s | %s | %s | %s | %s | %s |%n", mib, list(read), list(write),
        list(plain), list(put), list(get), list(get.stream().map(g -> g / (1.2 * readMin + 1)).toList()));
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

  /**
   * Writes mib MiB into a file and deletes it, so that the next write of that size lands in page-cache
   * pages used before. On this VM (its memory backed by the host at first touch) a write into pages
   * never used is 2-3 times slower than into pages just freed: without this, whichever of the fetch and
   * the plain copy ran first after the partner's copy had taken its pages paid that, and the
   * comparison measured the order.
   */
  private static void touchPages(int mib, Path scratch) throws IOException {
    java.nio.ByteBuffer block = java.nio.ByteBuffer.allocateDirect(1 << 20);
    try (FileChannel out = FileChannel.open(scratch, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      for (int i = 0; i < mib; i++) {
        block.clear();
        while (block.hasRemaining()) {
          out.write(block);
        }
      }
    }
    Files.delete(scratch);
  }

  /**
   * The same files over a plain loopback socket into files of their own, with nothing of crmpi's wire
   * (no handshake, framing or checks): the sender hands each file to the kernel ({@code sendfile}), the
   * receiver writes what arrives from one direct buffer, unsynced like the fetch. The least a fetch can
   * take on this machine.
   */
  private static void plainCopy(Path from, Path to) throws Exception {
    List<Path> files = files(from);
    try (java.nio.channels.ServerSocketChannel server = java.nio.channels.ServerSocketChannel.open()) {
      server.bind(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      java.util.concurrent.FutureTask<Void> sender = new java.util.concurrent.FutureTask<>(() -> {
        try (java.nio.channels.SocketChannel out = java.nio.channels.SocketChannel.open(server.getLocalAddress())) {
          for (Path f : files) {
            try (FileChannel in = FileChannel.open(f, StandardOpenOption.READ)) {
              for (long pos = 0, size = in.size(); pos < size; ) {
                pos += in.transferTo(pos, size - pos, out);
              }
            }
          }
        }
        return null;
      });
      Thread thread = new Thread(sender, "plain-copy-sender");
      thread.start();
      java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocateDirect(1 << 20);
      try (java.nio.channels.SocketChannel in = server.accept()) {
        for (Path f : files) {
          Path target = to.resolve(from.relativize(f).toString());
          Files.createDirectories(target.getParent());
          try (FileChannel out = FileChannel.open(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (long left = Files.size(f); left > 0; ) {
              buffer.clear().limit((int) Math.min(buffer.capacity(), left));
              if (in.read(buffer) < 0) {
                throw new IOException("plain copy: the sender stopped early");
              }
              buffer.flip();
              left -= buffer.remaining();
              while (buffer.hasRemaining()) {
                out.write(buffer);
              }
            }
          }
        }
      }
      sender.get();
    }
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
