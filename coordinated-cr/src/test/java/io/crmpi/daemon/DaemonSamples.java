package io.crmpi.daemon;

import io.crmpi.engine.JobNetwork;
import io.crmpi.engine.LaunchSpec;
import io.crmpi.engine.TreeExit;
import io.crmpi.engine.TreeOwner;
import io.crmpi.store.FileDigest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Sample daemon messages of every type, shared by the wire tests and the fuzzer. */
final class DaemonSamples {
  static final String SHA_ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  static final String SHA_EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  static final TreeId TREE = new TreeId("job-7", "node-01");

  private DaemonSamples() {}

  static LaunchSpec fullSpec() {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("PATH", "/usr/bin:/bin");
    env.put("OMPI_MCA_x", "a b \"quoted\" \n newline \u00e9");
    return new LaunchSpec("job-7", "node-01", List.of("mpirun", "-np", "4", "./a.out"), Path.of("/scratch/run"),
        env, Path.of("/run/user/1000/crmpi/job-7/node-01"), new JobNetwork("crv0", "crmpibr0", "10.213.4.1/16"),
        Path.of("/run/user/1000/crmpi/job-7/node-01/session"), new TreeOwner(1000, 1000, List.of(27, 100)), "n7",
        4242L);
  }

  static LaunchSpec bareSpec() {
    return new LaunchSpec("j", "n", List.of("sleep", "1"), Path.of("/w"), Map.of(), Path.of("/r"));
  }

  static List<FileDigest> files() {
    return List.of(new FileDigest("core-1.img", 3, SHA_ABC), new FileDigest("pages-1.img", 0, SHA_EMPTY));
  }

  /** One request of every type (some types twice, in different shapes). */
  static List<DaemonRequest> requests() {
    return List.of(
        new DaemonRequest.Launch(fullSpec()),
        new DaemonRequest.Launch(bareSpec()),
        new DaemonRequest.Restore(fullSpec(), Path.of("/home/u/ckpt/job-7/3/nodes/node-01/image"), 3, files(),
            Map.of("stdout", "pipe:[1]", ImageSeal.ATTRIBUTE, "00ff")),
        new DaemonRequest.Restore(bareSpec(), Path.of("/i"), Long.MAX_VALUE, List.of(), Map.of()),
        new DaemonRequest.Freeze(TREE),
        new DaemonRequest.Thaw(TREE),
        new DaemonRequest.Dump(TREE, Path.of("/home/u/ckpt/job-7/3/nodes/node-01"), 60_000),
        new DaemonRequest.Persist(TREE, 1),
        new DaemonRequest.Seal(TREE, 1),
        new DaemonRequest.Exec(TREE, List.of("crmpi-helper", "--flush", "arg with spaces", "")),
        new DaemonRequest.Processes(TREE),
        new DaemonRequest.Kill(new TreeId("A", "0")),
        new DaemonRequest.JobEvent(TREE, "aborted", "DUMP_FAILED", "", 0),
        new DaemonRequest.JobEvent(TREE, "committed", "", "periodic", 812),
        new DaemonRequest.Fence(fullSpec()));
  }

  static byte[] allBytes() {
    byte[] b = new byte[256];
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) i;
    }
    return b;
  }

  /** One reply of every type (some types twice, in different shapes). */
  static List<DaemonReply> replies() {
    return List.of(
        new DaemonReply.Started(4242),
        new DaemonReply.Done(),
        new DaemonReply.Dumped(Map.of("stdout", "pipe:[1]", "ns", "x")),
        new DaemonReply.Dumped(Map.of()),
        new DaemonReply.Persisted(files().stream().map(f -> FileDigest.unsealed(f.path(), f.size())).toList(),
            Map.of("stdout", "pipe:[1]")),
        new DaemonReply.Sealed(files(), Map.of(ImageSeal.ATTRIBUTE, "ab".repeat(32))),
        new DaemonReply.Count(17),
        new DaemonReply.Progress(123L << 20, 512L << 20),
        new DaemonReply.Progress(0, 0),
        new DaemonReply.Output(1, "hello\nworld\n".getBytes(StandardCharsets.UTF_8)),
        new DaemonReply.Output(2, allBytes()),
        new DaemonReply.Output(1, new byte[0]),
        new DaemonReply.Exited(new TreeExit(137, true)),
        new DaemonReply.Exited(new TreeExit(0, false)),
        new DaemonReply.Refused("refusing: \"quoted\"\nsecond line \u00e9 \u2603"));
  }

  /** Records equal, with the byte[] of Output compared by content. */
  static boolean same(Object a, Object b) {
    if (a instanceof DaemonReply.Output x && b instanceof DaemonReply.Output y) {
      return x.stream() == y.stream() && Arrays.equals(x.data(), y.data());
    }
    return a.equals(b);
  }

  /** A message as the line DaemonWire writes, without its newline. */
  static byte[] line(Object message) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      DaemonWire.write(out, (Record) message);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    byte[] b = out.toByteArray();
    return Arrays.copyOf(b, b.length - 1);
  }

  static String text(Object message) {
    return new String(line(message), StandardCharsets.UTF_8);
  }
}
