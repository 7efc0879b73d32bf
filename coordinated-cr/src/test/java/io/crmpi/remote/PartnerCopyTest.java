package io.crmpi.remote;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crmpi.store.NodeLocalLevel;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PartnerCopyTest {
  private static final String KEY = "k".repeat(48);
  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

  @TempDir Path tmp;
  private Path holderJob;
  private PartnerPort port;

  @BeforeEach
  void listen() throws IOException {
    holderJob = Files.createDirectories(tmp.resolve("holder/crmpi-1000/job1"));
    port = PartnerPort.listen(LOOPBACK, KEY, holderJob, "job1");
  }

  @AfterEach
  void close() {
    port.close();
  }

  @Test
  void putThenGetRoundTripsATreeByteForByte() throws Exception {
    Path source = tree(tmp.resolve("source"), 42);
    long size = Files.size(source.resolve("pages-1.img")) + Files.size(source.resolve("sub/deeper/core.img"));

    assertEquals(size, PartnerLink.put(port.endpoint(), KEY, "node1", 7, source));

    Path held = NodeLocalLevel.at(holderJob).partnerDir("node1", 7);
    assertEquals(contents(source), contents(held));
    assertEquals(List.of(), partials(holderJob));
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(held.resolve("sub"))));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(held.resolve("empty.img"))));

    Path target = tmp.resolve("restarted/job1/epochs/0000000007/nodes/node1");
    PartnerLink.get(port.endpoint(), KEY, "node1", 7, target);
    assertEquals(contents(source), contents(target));
    assertEquals(List.of(), partials(tmp.resolve("restarted")));
  }

  @Test
  void aSecondPutOfTheSameEpochReplacesTheCopy() throws Exception {
    PartnerLink.put(port.endpoint(), KEY, "node1", 7, tree(tmp.resolve("first"), 1));
    Path second = Files.createDirectories(tmp.resolve("second"));
    Files.writeString(second.resolve("only.img"), "the second image");

    assertEquals(16, PartnerLink.put(port.endpoint(), KEY, "node1", 7, second));

    Path held = NodeLocalLevel.at(holderJob).partnerDir("node1", 7);
    assertEquals(contents(second), contents(held));
    assertEquals(List.of(held), list(held.getParent()));
  }

  @Test
  void aClientWithAnotherJobKeyIsRefusedAndNothingIsWritten() throws IOException {
    Path source = tree(tmp.resolve("source"), 3);

    IOException e = assertThrows(IOException.class,
        () -> PartnerLink.put(port.endpoint(), "x".repeat(48), "node1", 7, source));

    assertTrue(e.getMessage().contains("the partner at " + port.endpoint()), e.getMessage());
    assertFalse(Files.exists(holderJob.resolve("partners")));
  }

  @Test
  void anAgentHandshakeIsNotAcceptedByAPartnerPort() throws IOException {
    try (Socket s = rawSocket()) {
      assertThrows(IOException.class, () -> SecureChannel.agent(s.getInputStream(), s.getOutputStream(), KEY, "n2"));
    }
  }

  @Test
  void aGetOfACopyThePartnerDoesNotHoldFailsAndLeavesNothing() {
    Path target = tmp.resolve("restarted/job1/epochs/0000000007/nodes/node1");

    IOException e = assertThrows(IOException.class, () -> PartnerLink.get(port.endpoint(), KEY, "node1", 7, target));

    assertEquals("the partner at " + port.endpoint() + " holds no copy of node node1's part of epoch 7",
        e.getMessage());
    assertFalse(Files.exists(target, LinkOption.NOFOLLOW_LINKS));
    assertEquals(List.of(), partials(tmp));
  }

  @Test
  void pathsOutsideTheCopyAreRefusedAndNothingEscapes() throws IOException {
    for (String path : List.of("../../evil", "/etc/x", "a/../../evil", "./evil", "a//b", "a\\\\..\\\\evil")) {
      String line = "{\"type\":\"FileStart\",\"body\":{\"path\":\"" + path + "\",\"size\":5}}";
      PartnerMessage answer = hostilePut(1, 5, channel -> channel.sendRaw(line.getBytes(StandardCharsets.UTF_8)));
      assertInstanceOf(PartnerMessage.Refused.class, answer, path);
      assertEquals(List.of(), list(holderJob.resolve("partners/node1")), path);
    }
    try (Stream<Path> all = Files.walk(tmp)) {
      assertEquals(List.of(), all.filter(p -> p.getFileName().toString().equals("evil")).toList());
    }
  }

  @Test
  void dataBeyondAFilesAnnouncedSizeIsRefused() throws IOException {
    PartnerMessage answer = hostilePut(1, 10, channel -> {
      channel.send(new PartnerMessage.FileStart("a.img", 3));
      channel.send(new PartnerMessage.Data(new byte[4]));
    });

    assertTrue(((PartnerMessage.Refused) answer).why().contains("more data for a.img"), answer.toString());
    assertEquals(List.of(), list(holderJob.resolve("partners/node1")));
  }

  @Test
  void aCopyThatEndsShortOfWhatWasAnnouncedIsRefused() throws IOException {
    PartnerMessage answer = hostilePut(2, 10, channel -> {
      channel.send(new PartnerMessage.FileStart("a.img", 3));
      channel.send(new PartnerMessage.Data(new byte[3]));
      channel.send(new PartnerMessage.End());
    });

    assertTrue(((PartnerMessage.Refused) answer).why().contains("2 and 10 were announced"), answer.toString());
    assertEquals(List.of(), list(holderJob.resolve("partners/node1")));
  }

  @Test
  void aSymlinkInTheSourceIsRefusedByPut() throws IOException {
    Path source = tree(tmp.resolve("source"), 5);
    Files.createSymbolicLink(source.resolve("sub/link.img"), Path.of("/etc/passwd"));

    IOException e = assertThrows(IOException.class, () -> PartnerLink.put(port.endpoint(), KEY, "node1", 7, source));

    assertTrue(e.getMessage().contains("link.img is a symbolic link"), e.getMessage());
    assertFalse(Files.exists(holderJob.resolve("partners")));
  }

  /** What a hostile client does after a correct handshake and a Put of files files of bytes bytes. */
  private interface Script {
    void run(SecureChannel<PartnerMessage, PartnerMessage> channel) throws IOException;
  }

  /** Authenticates with the right key, puts node1's epoch 7, runs the script; returns the port's answer. */
  private PartnerMessage hostilePut(int files, long bytes, Script script) throws IOException {
    try (Socket s = rawSocket()) {
      SecureChannel<PartnerMessage, PartnerMessage> channel =
          SecureChannel.partnerClient(s.getInputStream(), s.getOutputStream(), KEY, "mallory");
      channel.send(new PartnerMessage.Put("node1", 7, 0, files, bytes));
      assertEquals(new PartnerMessage.Ready(), channel.receive());
      script.run(channel);
      return channel.receive();
    }
  }

  private Socket rawSocket() throws IOException {
    String endpoint = port.endpoint();
    Socket s = new Socket(LOOPBACK, Integer.parseInt(endpoint.substring(endpoint.lastIndexOf(':') + 1)));
    s.setSoTimeout(10_000);
    return s;
  }

  /** A node's part of an epoch: a multi-MiB random file, an empty one, nested and empty directories. */
  private static Path tree(Path root, long seed) throws IOException {
    Random random = new Random(seed);
    byte[] pages = new byte[(3 << 20) + 12_345];
    random.nextBytes(pages);
    Files.createDirectories(root.resolve("sub/deeper"));
    Files.createDirectories(root.resolve("empty-dir"));
    Files.write(root.resolve("pages-1.img"), pages);
    Files.write(root.resolve("empty.img"), new byte[0]);
    byte[] core = new byte[1000 + random.nextInt(1000)];
    random.nextBytes(core);
    Files.write(root.resolve("sub/deeper/core.img"), core);
    return root;
  }

  /** Every entry below root by relative path: "dir" for a directory, the SHA-256 of its bytes for a file. */
  private static Map<String, String> contents(Path root) throws Exception {
    Map<String, String> m = new TreeMap<>();
    MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : walk.filter(p -> !p.equals(root)).toList()) {
        m.put(root.relativize(p).toString(), Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) ? "dir"
            : HexFormat.of().formatHex(sha256.digest(Files.readAllBytes(p))));
      }
    }
    return m;
  }

  private static List<Path> partials(Path root) {
    try (Stream<Path> walk = Files.walk(root)) {
      return walk.filter(p -> p.getFileName().toString().contains(".partial-")).toList();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static List<Path> list(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.sorted().toList();
    }
  }
}
