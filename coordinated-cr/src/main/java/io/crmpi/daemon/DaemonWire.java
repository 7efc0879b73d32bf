package io.crmpi.daemon;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * crmpid's one codec: every message is one line of JSON,
 * {"type": the record's simple name, "body": the record}, of a sealed
 * type ({@link DaemonRequest} or {@link DaemonReply}). A line is read at
 * most {@link #MAX_REQUEST} (requests) or {@link #MAX_REPLY} bytes long
 * before anything parses it (an overlong line is an IOException), and the
 * record's constructor validates it. Parsing is strict: one JSON value per
 * line, no duplicate keys, no unknown fields, no coercion between JSON
 * types. Whatever is not a well-formed message of the expected type is a
 * {@link BadMessage} that says what was wrong, and never reaches the
 * daemon's logic.
 */
public final class DaemonWire {
  /** The longest request line: a restore lists every file of one node's image. */
  public static final int MAX_REQUEST = 1 << 20;
  /** The longest reply line (a persisted image's file list, an output chunk). */
  public static final int MAX_REPLY = 16 << 20;
  private static final ObjectMapper MAPPER = JsonMapper.builder()
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
      .disable(com.fasterxml.jackson.databind.MapperFeature.ALLOW_COERCION_OF_SCALARS)
      .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .withCoercionConfig(com.fasterxml.jackson.databind.type.LogicalType.Textual, c -> c
          .setCoercion(com.fasterxml.jackson.databind.cfg.CoercionInputShape.Integer,
              com.fasterxml.jackson.databind.cfg.CoercionAction.Fail)
          .setCoercion(com.fasterxml.jackson.databind.cfg.CoercionInputShape.Float,
              com.fasterxml.jackson.databind.cfg.CoercionAction.Fail)
          .setCoercion(com.fasterxml.jackson.databind.cfg.CoercionInputShape.Boolean,
              com.fasterxml.jackson.databind.cfg.CoercionAction.Fail))
      .build();

  private DaemonWire() {}

  /** Writes one message (a record of a sealed daemon type) as a line and flushes. */
  public static void write(OutputStream out, Record message) throws IOException {
    ObjectNode n = MAPPER.createObjectNode();
    n.put("type", message.getClass().getSimpleName());
    n.set("body", MAPPER.valueToTree(message));
    byte[] line = MAPPER.writeValueAsBytes(n);
    synchronized (out) {
      out.write(line);
      out.write('\n');
      out.flush();
    }
  }

  /** Reads the next request; empty at a clean end of stream. */
  public static Optional<DaemonRequest> readRequest(InputStream in) throws IOException {
    return readLine(in, MAX_REQUEST).map(l -> decode(l, DaemonRequest.class));
  }

  /** Reads the next reply; empty at a clean end of stream. */
  public static Optional<DaemonReply> readReply(InputStream in) throws IOException {
    return readLine(in, MAX_REPLY).map(l -> decode(l, DaemonReply.class));
  }

  /** Decodes one line as a message of the sealed type; an unchecked {@link BadMessage} when it is none. */
  static <T> T decode(byte[] line, Class<T> sealed) {
    JsonNode n;
    try {
      n = MAPPER.readTree(line);
    } catch (IOException e) {
      throw new BadMessage("malformed JSON: " + brief(e));
    }
    if (!(n instanceof ObjectNode o) || !o.path("type").isTextual() || !o.path("body").isObject()
        || o.size() != 2) {
      throw new BadMessage("not a crmpid message (want {\"type\": ..., \"body\": {...}})");
    }
    String type = o.get("type").asText();
    for (Class<?> c : sealed.getPermittedSubclasses()) {
      if (c.getSimpleName().equals(type)) {
        try {
          return sealed.cast(MAPPER.treeToValue(o.get("body"), c));
        } catch (JsonProcessingException | IllegalArgumentException | NullPointerException e) {
          throw new BadMessage("bad " + type + ": " + brief(e));
        }
      }
    }
    throw new BadMessage("unknown " + sealed.getSimpleName() + " type '" + abbreviate(type) + "'");
  }

  /** A line without its newline; empty at end of stream before any byte. */
  static Optional<byte[]> readLine(InputStream in, int max) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream(256);
    for (;;) {
      int b = in.read();
      if (b < 0) {
        if (line.size() == 0) {
          return Optional.empty();
        }
        throw new IOException("the connection ended in the middle of a message");
      }
      if (b == '\n') {
        return Optional.of(line.toByteArray());
      }
      if (line.size() >= max) {
        throw new IOException("message longer than " + max + " bytes: refused");
      }
      line.write(b);
    }
  }

  private static String brief(Exception e) {
    String m = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
    return abbreviate(String.valueOf(m));
  }

  private static String abbreviate(String s) {
    s = s.replaceAll("[\\p{Cntrl}]", "?");
    return s.length() <= 160 ? s : s.substring(0, 160) + "...";
  }

  /** A line that is not a valid message of the expected type. */
  public static final class BadMessage extends RuntimeException {
    BadMessage(String message) {
      super(message);
    }
  }

  static String utf8(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }
}
