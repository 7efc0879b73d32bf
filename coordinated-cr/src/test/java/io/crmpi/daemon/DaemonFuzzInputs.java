package io.crmpi.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The inputs of {@link DaemonWireFuzzTest}: from a corpus of valid crmpid
 * messages (and some near misses), random bytes, JSON-like text, byte
 * mutations, splices, deeply nested values and messages whose JSON tree
 * had fields replaced, removed, renamed, swapped or added.
 */
final class DaemonFuzzInputs {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private static final String[] KEYS = {"type", "body", "tree", "spec", "job", "node", "command", "epoch", "files",
      "attributes", "imageDir", "nodeDir", "path", "size", "sha256", "workdir", "environment", "runtimeDir",
      "network", "sessionDir", "owner", "uid", "gid", "groups", "hostInterface", "bridge", "address", "initPid",
      "stream", "data", "exit", "code", "message", "", "\u0000", "__proto__", "@class", "x"};
  private static final String[] TOKENS = {"{", "}", "[", "]", "\"", ":", ",", "null", "true", "false", "0", "-1",
      "1e999", "-0", "0.5", "99999999999999999999999", "\\", "\\u0000", "\\ud800", "\"\"", "{}", "[]",
      "\"../x\"", "\"/abs\"", "\"file:///x\"", "\"jar:file:/x!/y\"", "\"a\\nb\"", "NaN", "Infinity", "//", "/*",
      "\u00e9", "\uFEFF", "\t", "\r", "\n", " ", "\"type\":", "\"body\":", "\"Launch\"", "\"Restore\"",
      "\"Kill\"", "\"Done\"", "{\"job\":\"a\",\"node\":\"b\"}"};
  private static final String[] TYPES = {"Launch", "Restore", "Freeze", "Thaw", "Dump", "Persist", "Exec",
      "Processes", "Kill", "Fence", "Started", "Done", "Dumped", "Persisted", "Count", "Output", "Exited",
      "Refused", "Nope", "", "DaemonRequest", "kill"};

  private static final long[] LONGS = {0, -1, 1, 2, Long.MAX_VALUE, Long.MIN_VALUE, Integer.MAX_VALUE,
      (long) Integer.MAX_VALUE + 1, 65534};
  private static final double[] DOUBLES = {0.5, -0.0, 1e300, -1e300, Double.MIN_VALUE, 3.0};

  private final List<byte[]> corpus = new ArrayList<>();
  private final List<JsonNode> trees = new ArrayList<>();

  DaemonFuzzInputs() {
    for (Object m : DaemonSamples.requests()) {
      corpus.add(DaemonSamples.line(m));
    }
    for (Object m : DaemonSamples.replies()) {
      corpus.add(DaemonSamples.line(m));
    }
    for (String s : new String[] {
        "{\"type\":\"Kill\",\"body\":{\"tree\":{\"job\":\"a\",\"node\":\"b\"}}}",
        "{\"type\":\"Exec\",\"body\":{\"tree\":{\"job\":\"a\",\"node\":\"b\"},\"command\":[]}}",
        "{\"type\":\"Persist\",\"body\":{\"tree\":{\"job\":\"a\",\"node\":\"b\"},\"epoch\":0}}",
        "{\"type\":\"Dump\",\"body\":{\"tree\":{\"job\":\"a\",\"node\":\"b\"},\"nodeDir\":\"/x\"}}",
        "{}", "[]", "null", ""}) {
      corpus.add(s.getBytes(StandardCharsets.UTF_8));
    }
    for (byte[] b : corpus) {
      if (b.length > 0) {
        trees.add(tree(b));
      }
    }
  }

  private static JsonNode tree(byte[] b) {
    try {
      return JSON.readTree(b);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** The next input: random bytes, JSON-ish text, a mutated or spliced message, or a deep value. */
  byte[] next(Random r) {
    int how = r.nextInt(100);
    byte[] b;
    if (how < 8) {
      b = randomBytes(r);
    } else if (how < 16) {
      b = randomJsonish(r);
    } else if (how < 50) {
      b = mutateBytes(r, pick(r, corpus), 1 + r.nextInt(r.nextBoolean() ? 2 : 8));
    } else if (how < 90) {
      b = mutateTree(r);
      if (r.nextInt(4) == 0) {
        b = mutateBytes(r, b, 1 + r.nextInt(3));
      }
    } else if (how < 95) {
      b = splice(r);
    } else {
      b = deep(r);
    }
    return b.length > DaemonWire.MAX_REQUEST ? java.util.Arrays.copyOf(b, DaemonWire.MAX_REQUEST) : b;
  }

  private static <T> T pick(Random r, List<T> l) {
    return l.get(r.nextInt(l.size()));
  }

  private static <T> T pick(Random r, T[] a) {
    return a[r.nextInt(a.length)];
  }

  private static byte[] randomBytes(Random r) {
    byte[] b = new byte[r.nextInt(r.nextInt(10) == 0 ? 5000 : 300)];
    r.nextBytes(b);
    return b;
  }

  private static byte[] randomJsonish(Random r) {
    StringBuilder s = new StringBuilder();
    int n = r.nextInt(60);
    for (int i = 0; i < n; i++) {
      s.append(r.nextBoolean() ? pick(r, TOKENS) : "\"" + pick(r, KEYS) + "\"");
    }
    return s.toString().getBytes(StandardCharsets.UTF_8);
  }

  private byte[] mutateBytes(Random r, byte[] in, int mutations) {
    byte[] cur = in.clone();
    for (int m = 0; m < mutations; m++) {
      int len = cur.length;
      int at = len == 0 ? 0 : r.nextInt(len);
      switch (r.nextInt(9)) {
        case 0 -> { // flip a bit
          if (len > 0) {
            cur[at] ^= (byte) (1 << r.nextInt(8));
          }
        }
        case 1 -> { // set a random byte
          if (len > 0) {
            cur[at] = (byte) r.nextInt(256);
          }
        }
        case 2 -> cur = java.util.Arrays.copyOf(cur, at); // truncate
        case 3 -> { // delete a range
          int n = Math.min(len - at, 1 + r.nextInt(16));
          cur = concat(java.util.Arrays.copyOf(cur, at), java.util.Arrays.copyOfRange(cur, at + n, len));
        }
        case 4 -> { // insert random bytes
          byte[] ins = new byte[1 + r.nextInt(8)];
          r.nextBytes(ins);
          cur = insert(cur, at, ins);
        }
        case 5 -> cur = insert(cur, at, pick(r, TOKENS).getBytes(StandardCharsets.UTF_8)); // insert a token
        case 6 -> { // duplicate a range
          int n = Math.min(len - at, 1 + r.nextInt(64));
          cur = insert(cur, at, java.util.Arrays.copyOfRange(cur, at, at + n));
        }
        case 7 -> { // replace one quoted word by another
          cur = replaceQuoted(r, cur);
        }
        default -> { // swap two bytes
          if (len > 1) {
            int other = r.nextInt(len);
            byte t = cur[at];
            cur[at] = cur[other];
            cur[other] = t;
          }
        }
      }
    }
    return cur;
  }

  private static byte[] replaceQuoted(Random r, byte[] cur) {
    String s = new String(cur, StandardCharsets.ISO_8859_1);
    int q = s.indexOf('"', r.nextInt(Math.max(1, s.length())));
    int end = q < 0 ? -1 : s.indexOf('"', q + 1);
    if (end < 0) {
      return cur;
    }
    String word = r.nextBoolean() ? pick(r, KEYS) : pick(r, TYPES);
    byte[] w = word.getBytes(StandardCharsets.UTF_8);
    return concat(concat(java.util.Arrays.copyOf(cur, q + 1), w), java.util.Arrays.copyOfRange(cur, end, cur.length));
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] c = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }

  private static byte[] insert(byte[] a, int at, byte[] ins) {
    return concat(concat(java.util.Arrays.copyOf(a, at), ins), java.util.Arrays.copyOfRange(a, at, a.length));
  }

  private byte[] splice(Random r) {
    byte[] a = pick(r, corpus);
    byte[] b = pick(r, corpus);
    int i = a.length == 0 ? 0 : r.nextInt(a.length);
    int j = b.length == 0 ? 0 : r.nextInt(b.length);
    return concat(java.util.Arrays.copyOf(a, i), java.util.Arrays.copyOfRange(b, j, b.length));
  }

  private static byte[] deep(Random r) {
    int depth = 1 + r.nextInt(r.nextBoolean() ? 1200 : 20000);
    String open;
    String close;
    switch (r.nextInt(3)) {
      case 0 -> {
        open = "[";
        close = "]";
      }
      case 1 -> {
        open = "{\"a\":";
        close = "}";
      }
      default -> {
        open = "{\"tree\":";
        close = "}";
      }
    }
    String inner = open.repeat(depth) + "1" + close.repeat(r.nextBoolean() ? depth : r.nextInt(depth + 1));
    String where = r.nextInt(3) == 0 ? "%s"
        : pick(r, new String[] {"{\"type\":\"Kill\",\"body\":%s}", "{\"type\":\"Exec\",\"body\":{\"tree\":%s}}",
            "{\"type\":\"Restore\",\"body\":{\"spec\":%s}}",
            "{\"type\":\"Exec\",\"body\":{\"tree\":{\"job\":\"a\",\"node\":\"b\"},\"command\":%s}}"});
    return String.format(where, inner).getBytes(StandardCharsets.UTF_8);
  }

  /** A valid message's JSON tree with some of its fields replaced, removed, renamed, swapped or added. */
  private byte[] mutateTree(Random r) {
    JsonNode root = pick(r, trees).deepCopy();
    int mutations = 1 + r.nextInt(r.nextBoolean() ? 2 : 6);
    for (int m = 0; m < mutations; m++) {
      List<Slot> slots = new ArrayList<>();
      collect(root, slots);
      if (slots.isEmpty()) {
        root = randomValue(r, 0);
        continue;
      }
      Slot s = pick(r, slots);
      switch (r.nextInt(7)) {
        case 0, 1 -> s.set(randomValue(r, 0));
        case 2 -> s.remove();
        case 3 -> s.rename(r.nextBoolean() ? pick(r, KEYS) : pick(r, TYPES));
        case 4 -> { // swap two fields' values
          Slot t = pick(r, slots);
          JsonNode a = s.get();
          JsonNode b = t.get();
          if (a != null && b != null && !isAncestor(a, b) && !isAncestor(b, a)) {
            s.set(b.deepCopy());
            t.set(a.deepCopy());
          }
        }
        case 5 -> s.addSibling(pick(r, KEYS), randomValue(r, 0));
        default -> s.set(randomSubtree(r)); // a piece of another message
      }
    }
    if (root instanceof ObjectNode o && o.has("type") && r.nextInt(4) == 0) {
      o.put("type", pick(r, TYPES));
    }
    try {
      return JSON.writeValueAsBytes(root);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static boolean isAncestor(JsonNode a, JsonNode b) {
    if (a == b) {
      return true;
    }
    for (Iterator<JsonNode> i = a.elements(); i.hasNext(); ) {
      if (isAncestor(i.next(), b)) {
        return true;
      }
    }
    return false;
  }

  private JsonNode randomSubtree(Random r) {
    List<Slot> slots = new ArrayList<>();
    collect(pick(r, trees), slots);
    return slots.isEmpty() ? NODES.nullNode() : pick(r, slots).get().deepCopy();
  }

  private static JsonNode randomValue(Random r, int depth) {
    switch (r.nextInt(depth > 3 ? 14 : 17)) {
      case 0: return NODES.nullNode();
      case 1: return NODES.booleanNode(r.nextBoolean());
      case 2: return NODES.numberNode(LONGS[r.nextInt(LONGS.length)]);
      case 3: return NODES.numberNode(r.nextLong());
      case 4: return NODES.numberNode(DOUBLES[r.nextInt(DOUBLES.length)]);
      case 5: return NODES.numberNode(new BigInteger(200, r));
      case 6: return NODES.textNode(pick(r, new String[] {"", "../x", "/abs", "rel", "file:///x", "file://host/x",
          "jar:file:/x!/y", "foo:bar", "a\u0000b", "\ud800", "x".repeat(129), "x".repeat(128), "a", "0", "1",
          "-1", "true", "null", "5", "1e9", "é", "AAAA", "!!!", "pipe:[1]", DaemonSamples.SHA_ABC,
          DaemonSamples.SHA_ABC.toUpperCase(), "10.213.4.1/16", "crv0", "/proc/self/root"}));
      case 7: return NODES.textNode(randomString(r));
      case 8: return NODES.textNode(pick(r, KEYS));
      case 9: return NODES.textNode(pick(r, TYPES));
      case 10: return NODES.arrayNode();
      case 11: return NODES.objectNode();
      case 12: return NODES.numberNode(r.nextInt(300) - 20);
      case 13: return NODES.textNode("file://" + pick(r, new String[] {"/", "/a/../b", "//x", "/%00", "/a%2Fb", ""}));
      case 14: {
        ArrayNode a = NODES.arrayNode();
        for (int i = r.nextInt(4); i > 0; i--) {
          a.add(randomValue(r, depth + 1));
        }
        return a;
      }
      case 15: {
        ObjectNode o = NODES.objectNode();
        for (int i = r.nextInt(4); i > 0; i--) {
          o.set(pick(r, KEYS), randomValue(r, depth + 1));
        }
        return o;
      }
      default: {
        ObjectNode o = NODES.objectNode();
        o.put("job", r.nextBoolean() ? "a" : randomString(r));
        o.put("node", r.nextBoolean() ? "b" : randomString(r));
        return o;
      }
    }
  }

  private static String randomString(Random r) {
    StringBuilder s = new StringBuilder();
    for (int i = r.nextInt(12); i > 0; i--) {
      s.append(r.nextInt(4) == 0 ? (char) r.nextInt(0x10000) : (char) (0x20 + r.nextInt(0x5f)));
    }
    return s.toString();
  }

  /** A place in a JSON tree: a field of an object or an element of an array. */
  private record Slot(JsonNode parent, String field, int index) {
    JsonNode get() {
      return field != null ? parent.get(field) : parent.get(index);
    }

    void set(JsonNode v) {
      if (field != null) {
        ((ObjectNode) parent).set(field, v);
      } else {
        ((ArrayNode) parent).set(index, v);
      }
    }

    void remove() {
      if (field != null) {
        ((ObjectNode) parent).remove(field);
      } else {
        ((ArrayNode) parent).remove(index);
      }
    }

    void rename(String to) {
      if (field != null) {
        ObjectNode o = (ObjectNode) parent;
        JsonNode v = o.remove(field);
        o.set(to, v);
      }
    }

    void addSibling(String key, JsonNode v) {
      if (field != null) {
        ((ObjectNode) parent).set(key, v);
      } else {
        ((ArrayNode) parent).add(v);
      }
    }
  }

  private static void collect(JsonNode n, List<Slot> slots) {
    if (n instanceof ObjectNode o) {
      for (Iterator<Map.Entry<String, JsonNode>> i = o.fields(); i.hasNext(); ) {
        Map.Entry<String, JsonNode> e = i.next();
        slots.add(new Slot(o, e.getKey(), -1));
        collect(e.getValue(), slots);
      }
    } else if (n instanceof ArrayNode a) {
      for (int i = 0; i < a.size(); i++) {
        slots.add(new Slot(a, null, i));
        collect(a.get(i), slots);
      }
    }
  }
}
