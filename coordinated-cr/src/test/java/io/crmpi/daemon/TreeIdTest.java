package io.crmpi.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TreeIdTest {
  @ParameterizedTest
  @ValueSource(strings = {"a", "A", "0", "job-7", "node-01", "j.1", "user@host", "a+b", "a_b", "a..b", "9-._@+",
      "slurm.12345.0"})
  void ordinaryNamesAreAccepted(String name) {
    TreeId t = new TreeId(name, name);
    assertEquals(name, t.job());
    assertEquals(name, t.node());
  }

  @Test
  void namesOf128CharactersAreAcceptedAnd129Refused() {
    String n128 = "a".repeat(128);
    new TreeId(n128, n128);
    assertThrows(IllegalArgumentException.class, () -> new TreeId(n128 + "a", "n"));
    assertThrows(IllegalArgumentException.class, () -> new TreeId("j", n128 + "a"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", ".", "..", "../x", "x/..", "a/b", "/abs", ".hidden", "-opt", "_x", "@x", "+x", "a b",
      " a", "a ", "a\n", "a\u0000", "a\tb", "\u00e9", "a\u00e9", "a:b", "a;b", "a*", "$x", "a\\b", "\u0661"})
  void badNamesAreRefusedWithTheRule(String name) {
    IllegalArgumentException job = assertThrows(IllegalArgumentException.class, () -> new TreeId(name, "n"));
    assertTrue(job.getMessage().startsWith("bad job name '"), job.getMessage());
    assertTrue(job.getMessage().contains("1-128 of [A-Za-z0-9._@+-], starting with a letter or digit"),
        job.getMessage());
    IllegalArgumentException node = assertThrows(IllegalArgumentException.class, () -> new TreeId("j", name));
    assertTrue(node.getMessage().startsWith("bad node name '"), node.getMessage());
  }

  @Test
  void nullNamesAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> new TreeId(null, "n"));
    assertThrows(IllegalArgumentException.class, () -> new TreeId("j", null));
  }

  @Test
  void theJobIsCheckedBeforeTheNode() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new TreeId("", ""));
    assertTrue(e.getMessage().startsWith("bad job name"), e.getMessage());
  }

  @Test
  void treeIdsAreValuesAndPrintReadably() {
    assertEquals(new TreeId("j", "n"), new TreeId("j", "n"));
    assertEquals(new TreeId("j", "n").hashCode(), new TreeId("j", "n").hashCode());
    assertNotEquals(new TreeId("j", "n"), new TreeId("n", "j"));
    assertNotEquals(new TreeId("j", "n"), new TreeId("J", "n"));
    assertEquals("job j node n", new TreeId("j", "n").toString());
  }
}
