package io.crmpi.remote;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.crmpi.protocol.AgentReply;
import io.crmpi.protocol.AgentRequest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * The coordinator-agent wire format across nodes: one JSON object per line,
 * with an "op" field. Records (LaunchSpec, NodeImage, TreeExit) travel as
 * Jackson maps them; the sealed request and reply types as
 * {"type": simple class name, "body": the record}. Writes are synchronized
 * per stream by the callers.
 */
final class Wire {
  static final ObjectMapper MAPPER = JsonMapper.builder()
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .build();
  /** The longest line accepted (a persisted image lists every file of the image). */
  static final int MAX_LINE = 64 << 20;

  private Wire() {}

  static ObjectNode message(String op) {
    ObjectNode n = MAPPER.createObjectNode();
    n.put("op", op);
    return n;
  }

  /** Parses one message (a JSON object with an "op"); see {@link SecureChannel} for how lines travel. */
  static ObjectNode parse(byte[] json) throws IOException {
    try {
      JsonNode n = MAPPER.readTree(json);
      if (!(n instanceof ObjectNode o) || !o.hasNonNull("op")) {
        throw new IOException("not a crmpi message: "
            + abbreviate(new String(json, 0, Math.min(json.length, 100), StandardCharsets.UTF_8)));
      }
      return o;
    } catch (JsonProcessingException e) {
      throw new IOException("malformed message: " + e.getOriginalMessage());
    }
  }

  static JsonNode encode(AgentRequest request) {
    return typed(request);
  }

  static JsonNode encode(AgentReply reply) {
    return typed(reply);
  }

  static AgentRequest request(JsonNode n) throws IOException {
    return decode(n, AgentRequest.class);
  }

  static AgentReply reply(JsonNode n) throws IOException {
    return decode(n, AgentReply.class);
  }

  static <T> T value(JsonNode n, Class<T> type) throws IOException {
    try {
      return MAPPER.treeToValue(n, type);
    } catch (JsonProcessingException | IllegalArgumentException e) {
      throw new IOException("bad " + type.getSimpleName() + ": " + e.getMessage());
    }
  }

  private static ObjectNode typed(Object record) {
    ObjectNode n = MAPPER.createObjectNode();
    n.put("type", record.getClass().getSimpleName());
    n.set("body", MAPPER.valueToTree(record));
    return n;
  }

  private static <T> T decode(JsonNode n, Class<T> sealed) throws IOException {
    String type = n.path("type").asText("");
    for (Class<?> c : sealed.getPermittedSubclasses()) {
      if (c.getSimpleName().equals(type)) {
        return sealed.cast(value(n.path("body"), c));
      }
    }
    throw new IOException("unknown " + sealed.getSimpleName() + " type '" + type + "'");
  }

  private static String abbreviate(String s) {
    return s.length() <= 80 ? s : s.substring(0, 80) + "...";
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
