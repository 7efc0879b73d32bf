package io.crmpi.daemon;

import io.crmpi.wire.BadMessage;
import static io.crmpi.daemon.DaemonSamples.same;
import static io.crmpi.daemon.DaemonSamples.text;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DaemonWireTest {
  private static final String TREE_JSON = "{\"job\":\"job-7\",\"node\":\"node-01\"}";
  private static final String BARE_SPEC = "{\"job\":\"j\",\"node\":\"n\",\"command\":[\"sleep\",\"1\"],"
      + "\"workdir\":\"file:///w\",\"environment\":{},\"runtimeDir\":\"file:///r\",\"network\":null,"
      + "\"sessionDir\":\"file:///r/session\",\"owner\":null}";

  private static byte[] written(List<?> messages) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Object m : messages) {
      DaemonWire.write(out, (Record) m);
    }
    return out.toByteArray();
  }

  private static InputStream in(String s) {
    return new ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8));
  }

  private static BadMessage badRequest(String line) {
    return assertThrows(BadMessage.class,
        () -> DaemonWire.decode(line.getBytes(StandardCharsets.UTF_8), DaemonRequest.class), line);
  }

  private static BadMessage badReply(String line) {
    return assertThrows(BadMessage.class,
        () -> DaemonWire.decode(line.getBytes(StandardCharsets.UTF_8), DaemonReply.class), line);
  }

  private static void assertMentions(Throwable e, String... words) {
    for (String w : words) {
      assertTrue(e.getMessage().contains(w), "message should mention '" + w + "': " + e.getMessage());
    }
  }

  private static DaemonRequest request(String line) {
    return DaemonWire.decode(line.getBytes(StandardCharsets.UTF_8), DaemonRequest.class);
  }

  // ---- round trips ----

  @Test
  void theWarmUpRoundTripsItsMessagesWithoutAnError() {
    DaemonWire.warmUp(); // throws when a message of the checkpoint path does not read back
  }

  @Test
  void everyRequestTypeRoundTrips() throws IOException {
    List<DaemonRequest> sent = DaemonSamples.requests();
    InputStream in = new ByteArrayInputStream(written(sent));
    for (DaemonRequest r : sent) {
      assertEquals(Optional.of(r), DaemonWire.readRequest(in));
    }
    assertEquals(Optional.empty(), DaemonWire.readRequest(in));
  }

  @Test
  void everyReplyTypeRoundTrips() throws IOException {
    List<DaemonReply> sent = DaemonSamples.replies();
    InputStream in = new ByteArrayInputStream(written(sent));
    for (DaemonReply r : sent) {
      DaemonReply got = DaemonWire.readReply(in).orElseThrow();
      assertTrue(same(r, got), "sent " + r + ", got " + got);
    }
    assertEquals(Optional.empty(), DaemonWire.readReply(in));
  }

  @Test
  void theSamplesCoverEveryPermittedType() {
    assertEquals(Set.of(DaemonRequest.class.getPermittedSubclasses()),
        DaemonSamples.requests().stream().map(Object::getClass).collect(Collectors.toSet()));
    assertEquals(Set.of(DaemonReply.class.getPermittedSubclasses()),
        DaemonSamples.replies().stream().map(Object::getClass).collect(Collectors.toSet()));
  }

  @Test
  void outputDataRoundTripsEveryByteValue() throws IOException {
    byte[] data = DaemonSamples.allBytes();
    DaemonReply got = DaemonWire.readReply(new ByteArrayInputStream(written(List.of(new DaemonReply.Output(2, data)))))
        .orElseThrow();
    DaemonReply.Output o = assertInstanceOf(DaemonReply.Output.class, got);
    assertEquals(2, o.stream());
    assertArrayEquals(data, o.data());
  }

  @Test
  void everyMessageIsExactlyOneLineEvenWithNewlinesInItsStrings() throws IOException {
    for (Object m : DaemonSamples.requests().stream().map(Object.class::cast).toList()) {
      assertOneLine(written(List.of(m)));
    }
    for (Object m : DaemonSamples.replies().stream().map(Object.class::cast).toList()) {
      assertOneLine(written(List.of(m)));
    }
  }

  private static void assertOneLine(byte[] b) {
    assertEquals('\n', b[b.length - 1]);
    for (int i = 0; i < b.length - 1; i++) {
      assertTrue(b[i] != '\n', "a newline inside the message: " + new String(b, StandardCharsets.UTF_8));
    }
  }

  @Test
  void aLineIsTypeThenBody() {
    assertEquals("{\"type\":\"Persist\",\"body\":{\"tree\":" + TREE_JSON + ",\"epoch\":1}}",
        text(new DaemonRequest.Persist(DaemonSamples.TREE, 1)));
  }

  @Test
  void aReplyLongerThanTheRequestLimitStillReads() throws IOException {
    byte[] data = new byte[DaemonWire.MAX_REQUEST + 4096];
    Arrays.fill(data, (byte) 'x');
    byte[] line = written(List.of(new DaemonReply.Output(1, data)));
    assertTrue(line.length > DaemonWire.MAX_REQUEST);
    DaemonReply.Output o = (DaemonReply.Output) DaemonWire.readReply(new ByteArrayInputStream(line)).orElseThrow();
    assertArrayEquals(data, o.data());
  }

  // ---- lines ----

  @Test
  void aCleanEndOfStreamReadsAsEmpty() throws IOException {
    assertEquals(Optional.empty(), DaemonWire.readRequest(InputStream.nullInputStream()));
    assertEquals(Optional.empty(), DaemonWire.readReply(InputStream.nullInputStream()));
  }

  @Test
  void anEndOfStreamInTheMiddleOfALineIsAnError() {
    String half = text(new DaemonRequest.Kill(DaemonSamples.TREE));
    IOException e = assertThrows(IOException.class, () -> DaemonWire.readRequest(in(half)));
    assertMentions(e, "in the middle of a message");
    assertThrows(IOException.class, () -> DaemonWire.readReply(in("{\"type\"")));
  }

  /** An endless stream of 'x' without a newline that counts what was read from it. */
  private static final class Endless extends InputStream {
    long read;

    @Override
    public int read() {
      read++;
      return 'x';
    }

    @Override
    public int read(byte[] b, int off, int len) {
      Arrays.fill(b, off, off + len, (byte) 'x');
      read += len;
      return len;
    }
  }

  @Test
  void anOverlongRequestIsRefusedWithoutReadingItAll() {
    Endless in = new Endless();
    IOException e = assertThrows(IOException.class, () -> DaemonWire.readRequest(in));
    assertMentions(e, "longer than " + DaemonWire.MAX_REQUEST + " bytes");
    assertTrue(in.read <= DaemonWire.MAX_REQUEST + 1, "read " + in.read + " bytes");
  }

  @Test
  void anOverlongReplyIsRefusedWithoutReadingItAll() {
    Endless in = new Endless();
    IOException e = assertThrows(IOException.class, () -> DaemonWire.readReply(in));
    assertMentions(e, "longer than " + DaemonWire.MAX_REPLY + " bytes");
    assertTrue(in.read <= DaemonWire.MAX_REPLY + 1, "read " + in.read + " bytes");
  }

  @Test
  void aRequestLineOneByteOverTheLimitIsRefusedEvenIfItWouldParse() throws IOException {
    // valid JSON padded with spaces to MAX_REQUEST + 1 bytes
    String kill = text(new DaemonRequest.Kill(DaemonSamples.TREE));
    String padded = " ".repeat(DaemonWire.MAX_REQUEST + 1 - kill.length()) + kill;
    assertEquals(DaemonWire.MAX_REQUEST + 1, padded.length());
    assertThrows(IOException.class, () -> DaemonWire.readRequest(in(padded + "\n")));
    String fits = padded.substring(1);
    assertEquals(new DaemonRequest.Kill(DaemonSamples.TREE), DaemonWire.readRequest(in(fits + "\n")).orElseThrow());
  }

  // ---- decoding: the envelope ----

  @ParameterizedTest
  @ValueSource(strings = {"{", "{\"type\":", "{\"type\":\"Kill\",\"body\":{\"tree\":", "nonsense", "{'type':'Kill'}",
      "{\"type\":\"Kill\" \"body\":{}}", "\"unterminated"})
  void malformedJsonIsRefused(String line) {
    assertMentions(badRequest(line), "malformed JSON");
  }

  @Test
  void bytesThatAreNotUtf8AreRefused() {
    byte[] line = {'{', '"', 't', 'y', 'p', 'e', '"', ':', '"', (byte) 0xff, (byte) 0xfe, '"', '}'};
    BadMessage e = assertThrows(BadMessage.class,
        () -> DaemonWire.decode(line, DaemonRequest.class));
    assertMentions(e, "malformed JSON");
  }

  @ParameterizedTest
  @ValueSource(strings = {"[1,2]", "\"Kill\"", "42", "null", "true", "", "   ", "{}",
      "[{\"type\":\"Kill\",\"body\":{\"tree\":" + TREE_JSON + "}}]"})
  void aLineThatIsNotAnObjectWithTypeAndBodyIsRefused(String line) {
    assertMentions(badRequest(line), "not a crmpid message");
  }

  @Test
  void anEmptyLineIsARefusedRequestNotAnEndOfStream() {
    BadMessage e = assertThrows(BadMessage.class, () -> DaemonWire.readRequest(in("\n")));
    assertMentions(e, "not a crmpid message");
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "{\"body\":{\"tree\":" + TREE_JSON + "}}",
      "{\"type\":\"Kill\"}",
      "{\"type\":\"Kill\",\"body\":{\"tree\":" + TREE_JSON + "},\"extra\":1}",
      "{\"type\":\"Kill\",\"body\":{\"tree\":" + TREE_JSON + "},\"Body\":{}}",
      "{\"type\":1,\"body\":{\"tree\":" + TREE_JSON + "}}",
      "{\"type\":null,\"body\":{\"tree\":" + TREE_JSON + "}}",
      "{\"type\":[\"Kill\"],\"body\":{\"tree\":" + TREE_JSON + "}}",
      "{\"type\":\"Kill\",\"body\":null}",
      "{\"type\":\"Kill\",\"body\":[]}",
      "{\"type\":\"Kill\",\"body\":\"{}\"}",
      "{\"kind\":\"Kill\",\"body\":{\"tree\":" + TREE_JSON + "}}"})
  void aMissingWrongOrExtraTopLevelFieldIsRefused(String line) {
    assertMentions(badRequest(line), "not a crmpid message", "\"type\"", "\"body\"");
  }

  @Test
  void anUnknownTypeIsRefusedByName() {
    assertMentions(badRequest("{\"type\":\"Nope\",\"body\":{}}"), "unknown DaemonRequest type 'Nope'");
    assertMentions(badReply("{\"type\":\"Nope\",\"body\":{}}"), "unknown DaemonReply type 'Nope'");
  }

  @Test
  void typeNamesAreCaseSensitiveAndNotQualified() {
    badRequest("{\"type\":\"kill\",\"body\":{\"tree\":" + TREE_JSON + "}}");
    badRequest("{\"type\":\"DaemonRequest$Kill\",\"body\":{\"tree\":" + TREE_JSON + "}}");
    badRequest("{\"type\":\"io.crmpi.daemon.DaemonRequest.Kill\",\"body\":{\"tree\":" + TREE_JSON + "}}");
    badRequest("{\"type\":\"DaemonRequest\",\"body\":{}}");
  }

  @Test
  void aReplyWhereARequestIsExpectedIsRefused() {
    for (DaemonReply r : DaemonSamples.replies()) {
      String name = r.getClass().getSimpleName();
      assertMentions(badRequest(text(r)), "unknown DaemonRequest type '" + name + "'");
    }
  }

  @Test
  void aRequestWhereAReplyIsExpectedIsRefused() {
    for (DaemonRequest r : DaemonSamples.requests()) {
      String name = r.getClass().getSimpleName();
      assertMentions(badReply(text(r)), "unknown DaemonReply type '" + name + "'");
    }
  }

  @Test
  void aRefusedTypeNameIsQuotedWithoutControlCharactersAndAbbreviated() {
    BadMessage e = badRequest("{\"type\":\"Ki\\nll\\u0000\",\"body\":{}}");
    assertMentions(e, "'Ki?ll?'");
    assertFalse(e.getMessage().contains("\n"));
    BadMessage longOne = badRequest("{\"type\":\"" + "A".repeat(100_000) + "\",\"body\":{}}");
    assertTrue(longOne.getMessage().length() < 300, "message of " + longOne.getMessage().length() + " chars");
  }

  // ---- decoding: the body ----

  @Test
  void anUnknownFieldInTheBodyIsRefused() {
    assertMentions(badRequest("{\"type\":\"Kill\",\"body\":{\"tree\":" + TREE_JSON + ",\"force\":true}}"),
        "bad Kill", "force");
    assertMentions(badRequest("{\"type\":\"Kill\",\"body\":{\"tree\":{\"job\":\"a\",\"node\":\"b\",\"uid\":0}}}"),
        "bad Kill", "uid");
  }

  @ParameterizedTest
  @ValueSource(longs = {0, -1, Long.MIN_VALUE})
  void aPersistOfEpochZeroOrLessIsRefused(long epoch) {
    assertMentions(badRequest("{\"type\":\"Persist\",\"body\":{\"tree\":" + TREE_JSON + ",\"epoch\":" + epoch + "}}"),
        "bad Persist", "epoch <= 0");
  }

  @Test
  void aRestoreOfEpochZeroIsRefused() {
    String line = text(new DaemonRequest.Restore(DaemonSamples.bareSpec(), java.nio.file.Path.of("/i"), 1,
        List.of(), java.util.Map.of())).replace("\"epoch\":1", "\"epoch\":0");
    assertMentions(badRequest(line), "bad Restore", "epoch <= 0");
  }

  @Test
  void aMissingEpochIsRefusedNotTakenAsZero() {
    assertMentions(badRequest("{\"type\":\"Persist\",\"body\":{\"tree\":" + TREE_JSON + "}}"), "bad Persist",
        "missing field 'epoch'");
    assertMentions(badRequest("{\"type\":\"Persist\",\"body\":{\"tree\":" + TREE_JSON + ",\"epoch\":null}}"),
        "bad Persist");
  }

  @Test
  void aNonNumericEpochIsRefused() {
    assertMentions(badRequest("{\"type\":\"Persist\",\"body\":{\"tree\":" + TREE_JSON + ",\"epoch\":\"abc\"}}"),
        "bad Persist", "abc");
    badRequest("{\"type\":\"Persist\",\"body\":{\"tree\":" + TREE_JSON + ",\"epoch\":1e999}}");
    badRequest("{\"type\":\"Persist\",\"body\":{\"tree\":" + TREE_JSON + ",\"epoch\":99999999999999999999}}");
    badRequest("{\"type\":\"Persist\",\"body\":{\"tree\":" + TREE_JSON + ",\"epoch\":{}}}");
  }

  @ParameterizedTest
  @ValueSource(strings = {"../x", "", ".hidden", "-x", "a/b", "a b", "x\\n", "\\u00e9t\\u00e9", "_x", "/etc"})
  void aBadTreeNameInATreeIdIsRefused(String job) {
    String line = "{\"type\":\"Freeze\",\"body\":{\"tree\":{\"job\":\"" + job + "\",\"node\":\"n\"}}}";
    assertMentions(badRequest(line), "bad Freeze", "bad job name");
    String node = "{\"type\":\"Thaw\",\"body\":{\"tree\":{\"job\":\"j\",\"node\":\"" + job + "\"}}}";
    assertMentions(badRequest(node), "bad Thaw", "bad node name");
  }

  @Test
  void aMissingOrNullTreeIsRefused() {
    assertMentions(badRequest("{\"type\":\"Kill\",\"body\":{}}"), "bad Kill");
    assertMentions(badRequest("{\"type\":\"Kill\",\"body\":{\"tree\":null}}"), "bad Kill");
    assertMentions(badRequest("{\"type\":\"Kill\",\"body\":{\"tree\":{\"job\":\"j\"}}}"), "bad Kill", "node name");
    assertMentions(badRequest("{\"type\":\"Kill\",\"body\":{\"tree\":\"job-7/node-01\"}}"), "bad Kill");
  }

  @Test
  void anEmptyCommandIsRefused() {
    assertMentions(badRequest("{\"type\":\"Exec\",\"body\":{\"tree\":" + TREE_JSON + ",\"command\":[]}}"),
        "bad Exec", "empty command");
    assertMentions(badRequest("{\"type\":\"Exec\",\"body\":{\"tree\":" + TREE_JSON + "}}"), "bad Exec");
    assertMentions(badRequest("{\"type\":\"Exec\",\"body\":{\"tree\":" + TREE_JSON + ",\"command\":[\"ls\",null]}}"),
        "bad Exec");
    assertMentions(badRequest("{\"type\":\"Exec\",\"body\":{\"tree\":" + TREE_JSON + ",\"command\":\"ls\"}}"),
        "bad Exec");
    assertMentions(badRequest("{\"type\":\"Launch\",\"body\":{\"spec\":" + BARE_SPEC.replace("[\"sleep\",\"1\"]", "[]")
        + "}}"), "bad Launch", "empty command");
  }

  @Test
  void relativeOrMissingPathsAreRefused() {
    assertMentions(badRequest("{\"type\":\"Dump\",\"body\":{\"tree\":" + TREE_JSON + ",\"nodeDir\":\"rel/dir\","
        + "\"timeoutMillis\":60000}}"), "bad Dump", "nodeDir is not an absolute path");
    assertMentions(badRequest("{\"type\":\"Dump\",\"body\":{\"tree\":" + TREE_JSON + ",\"nodeDir\":\"/a\","
        + "\"timeoutMillis\":999999999999}}"), "bad Dump", "timeoutMillis must be 1000..");
    assertMentions(badRequest("{\"type\":\"Dump\",\"body\":{\"tree\":" + TREE_JSON + "}}"), "bad Dump",
        "missing field 'timeoutMillis'");
    assertMentions(badRequest("{\"type\":\"Dump\",\"body\":{\"tree\":" + TREE_JSON + ",\"timeoutMillis\":60000}}"),
        "bad Dump", "nodeDir");
    assertMentions(badRequest("{\"type\":\"Dump\",\"body\":{\"tree\":" + TREE_JSON + ",\"nodeDir\":\"/a\\u0000b\","
        + "\"timeoutMillis\":60000}}"),
        "bad Dump", "Nul character");
    String restore = text(new DaemonRequest.Restore(DaemonSamples.bareSpec(), java.nio.file.Path.of("/i"), 1,
        List.of(), java.util.Map.of()));
    assertMentions(badRequest(restore.replace("\"imageDir\":\"file:///i\"", "\"imageDir\":\"i\"")),
        "bad Restore", "imageDir is not an absolute path");
    assertMentions(badRequest("{\"type\":\"Launch\",\"body\":{\"spec\":"
        + BARE_SPEC.replace("\"workdir\":\"file:///w\"", "\"workdir\":\"w\"") + "}}"), "bad Launch", "workdir");
  }

  @Test
  void aBadFileDigestInARestoreIsRefused() {
    String restore = text(new DaemonRequest.Restore(DaemonSamples.bareSpec(), java.nio.file.Path.of("/i"), 1,
        DaemonSamples.files(), java.util.Map.of()));
    assertMentions(badRequest(restore.replace("\"core-1.img\"", "\"../core-1.img\"")), "bad Restore", "path");
    assertMentions(badRequest(restore.replace("\"size\":3", "\"size\":-3")), "bad Restore", "size < 0");
    assertMentions(badRequest(restore.replace(DaemonSamples.SHA_ABC, DaemonSamples.SHA_ABC.toUpperCase())),
        "bad Restore", "sha256");
    badRequest(restore.replace("\"files\":[", "\"files\":[null,"));
    badRequest(restore.replace("\"attributes\":{}", "\"attributes\":{\"a\":null}"));
  }

  @Test
  void aBadOwnerOrNetworkInALaunchSpecIsRefused() {
    String launch = text(new DaemonRequest.Launch(DaemonSamples.fullSpec()));
    assertMentions(badRequest(launch.replace("\"uid\":1000", "\"uid\":0")), "bad Launch", "uid 0");
    assertMentions(badRequest(launch.replace("\"hostInterface\":\"crv0\"", "\"hostInterface\":\"../../x\"")),
        "bad Launch", "interface name");
  }

  @Test
  void aBadHostNameInALaunchSpecIsRefused() {
    String launch = text(new DaemonRequest.Launch(DaemonSamples.fullSpec()));
    org.junit.jupiter.api.Assumptions.assumeTrue(launch.contains("\"hostname\":\""), "no host name in a LaunchSpec");
    String bad = launch.replaceFirst("\"hostname\":\"[^\"]*\"", "\"hostname\":\"../x\"");
    assertMentions(badRequest(bad), "bad Launch", "host name '../x'");
  }

  @Test
  void aBadReplyBodyIsRefused() {
    assertMentions(badReply("{\"type\":\"Output\",\"body\":{\"stream\":3,\"data\":\"\"}}"), "bad Output", "stream");
    assertMentions(badReply("{\"type\":\"Output\",\"body\":{\"stream\":1,\"data\":\"!!!\"}}"), "bad Output");
    assertMentions(badReply("{\"type\":\"Output\",\"body\":{\"stream\":1}}"), "bad Output");
    assertMentions(badReply("{\"type\":\"Refused\",\"body\":{}}"), "bad Refused");
    assertMentions(badReply("{\"type\":\"Exited\",\"body\":{\"exit\":null}}"), "bad Exited");
    assertMentions(badReply("{\"type\":\"Started\",\"body\":{}}"), "bad Started");
    assertMentions(badReply("{\"type\":\"Done\",\"body\":{\"x\":1}}"), "bad Done", "x");
  }

  @Test
  void aBadMessageIsUncheckedAndReadRequestLetsItThrough() {
    BadMessage e = assertThrows(BadMessage.class,
        () -> DaemonWire.readRequest(in("{\"type\":\"Nope\",\"body\":{}}\n")));
    assertInstanceOf(RuntimeException.class, e);
  }

  @Test
  void writeIsOneWritePerMessageUnderTheStreamsLock() throws Exception {
    // many threads writing to one stream never interleave their lines
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    List<Thread> threads = new java.util.ArrayList<>();
    for (int t = 0; t < 8; t++) {
      Thread th = new Thread(() -> {
        for (int i = 0; i < 200; i++) {
          try {
            DaemonWire.write(out, new DaemonReply.Output(1, new byte[100]));
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        }
      });
      threads.add(th);
      th.start();
    }
    for (Thread th : threads) {
      th.join();
    }
    InputStream in = new ByteArrayInputStream(out.toByteArray());
    int n = 0;
    for (Optional<DaemonReply> r; (r = DaemonWire.readReply(in)).isPresent(); ) {
      assertEquals(100, ((DaemonReply.Output) r.get()).data().length);
      n++;
    }
    assertEquals(1600, n);
  }
}
