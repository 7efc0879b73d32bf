package io.crmpi.daemon;

import static io.crmpi.daemon.DaemonSamples.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crmpi.wire.BadMessage;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** crmpid's decoder is strict where a lenient one would let a request through half-checked. */
class DaemonWireStrictnessTest {
  private static final String TREE_JSON = "{\"job\":\"job-7\",\"node\":\"node-01\"}";
  private static final String BARE_SPEC = "{\"job\":\"j\",\"node\":\"n\",\"command\":[\"sleep\",\"1\"],"
      + "\"workdir\":\"file:///w\",\"environment\":{},\"runtimeDir\":\"file:///r\",\"network\":null,"
      + "\"sessionDir\":\"file:///r/session\",\"owner\":null}";

  private static BadMessage badRequest(String line) {
    return assertThrows(BadMessage.class,
        () -> DaemonWire.decode(line.getBytes(StandardCharsets.UTF_8), DaemonRequest.class), line);
  }

  private static DaemonRequest request(String line) {
    return DaemonWire.decode(line.getBytes(StandardCharsets.UTF_8), DaemonRequest.class);
  }

  private static void assertMentions(Throwable e, String word) {
    assertTrue(e.getMessage().contains(word), "message should mention '" + word + "': " + e.getMessage());
  }

  /**
   * Launch, Restore and Fence carry their tree's names inside the LaunchSpec,
   * which the decoder does not check against TreeId's rules: such a request
   * decodes, and only a later {@code tree()} throws an IllegalArgumentException
   * (in Crmpid.session that call is outside the try that turns failures into a
   * Refused reply).
   */
  @ParameterizedTest
  @ValueSource(strings = {"Launch", "Fence", "Restore"})
  void aSpecWithABadTreeNameIsRefusedByTheDecoder(String type) {
    String body = "{\"spec\":" + BARE_SPEC.replace("\"job\":\"j\"", "\"job\":\"../x\"")
        + (type.equals("Restore") ? ",\"imageDir\":\"file:///i\",\"epoch\":1,\"files\":[],\"attributes\":{}" : "")
        + "}";
    assertMentions(badRequest("{\"type\":\"" + type + "\",\"body\":" + body + "}"), "bad job name");
  }

  @Test
  void trailingContentAfterTheMessageIsRefused() {
    String kill = text(new DaemonRequest.Kill(DaemonSamples.TREE));
    badRequest(kill + " trailing");
    badRequest(kill + kill);
  }

  @Test
  void duplicateKeysAreRefused() {
    badRequest("{\"type\":\"Freeze\",\"type\":\"Kill\",\"body\":{\"tree\":" + TREE_JSON + "}}");
    badRequest("{\"type\":\"Kill\",\"body\":{\"tree\":" + TREE_JSON + ",\"tree\":" + TREE_JSON + "}}");
  }

  @Test
  void scalarsOfTheWrongJsonTypeAreRefused() {
    badRequest("{\"type\":\"Persist\",\"body\":{\"tree\":" + TREE_JSON + ",\"epoch\":\"5\"}}");
    badRequest("{\"type\":\"Persist\",\"body\":{\"tree\":" + TREE_JSON + ",\"epoch\":5.7}}");
    badRequest("{\"type\":\"Exec\",\"body\":{\"tree\":" + TREE_JSON + ",\"command\":[1,true]}}");
  }

  @Test
  void aPathFromTheWireIsNormalized() {
    DaemonRequest r = request("{\"type\":\"Dump\",\"body\":{\"tree\":" + TREE_JSON
        + ",\"nodeDir\":\"file:///home/u/x//\",\"timeoutMillis\":60000}}");
    assertEquals(java.nio.file.Path.of("/home/u/x"), ((DaemonRequest.Dump) r).nodeDir());
  }

  @Test
  void theDecodedSetOfTypesIsExactlyTheSealedOnes() {
    Set<String> names = new HashSet<>();
    for (Class<?> c : DaemonRequest.class.getPermittedSubclasses()) {
      names.add(c.getSimpleName());
    }
    assertEquals(Set.of("Launch", "Restore", "Freeze", "Thaw", "Dump", "Persist", "Seal", "Exec", "Processes", "Kill",
        "Fence", "JobEvent"), names);
  }
}
