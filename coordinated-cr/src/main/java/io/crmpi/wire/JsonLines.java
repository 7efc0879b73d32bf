package io.crmpi.wire;

import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.jsontype.NamedType;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.type.LogicalType;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one codec of crmpi's JSON wires: a message is a record of a sealed
 * type, sent as one line {"type": the record's simple name, "body": the
 * record}. The record's constructor validates it. Decoding is strict: one
 * JSON value, no duplicate keys, no unknown or missing primitive fields, no
 * coercion between JSON types. Whatever is not a well-formed message of
 * the sealed type is a {@link BadMessage} that says what was wrong.
 *
 * <p>A sealed type may nest: its records may themselves be sealed
 * interfaces' records (the codec finds every record below the type), and a
 * record's field may be of another sealed type named in {@link #of}, which
 * then travels as {"RecordName": {...}}.
 *
 * @param <T> the sealed type of the channel's messages in one direction
 */
public final class JsonLines<T> {
  private final String wire;
  private final Class<T> sealed;
  private final Map<String, Class<? extends T>> records;
  private final ObjectMapper mapper;

  private JsonLines(String wire, Class<T> sealed, Map<String, Class<? extends T>> records, ObjectMapper mapper) {
    this.wire = wire;
    this.sealed = sealed;
    this.records = records;
    this.mapper = mapper;
  }

  /**
   * The codec of sealed on the named wire (named in errors: "not a crmpid
   * message"); nested names the sealed types that occur as field types
   * inside its records.
   */
  public static <T> JsonLines<T> of(String wire, Class<T> sealed, Class<?>... nested) {
    Map<String, Class<? extends T>> records = new LinkedHashMap<>();
    for (Class<?> c : leaves(sealed)) {
      if (records.put(c.getSimpleName(), c.asSubclass(sealed)) != null) {
        throw new IllegalArgumentException(sealed.getName() + " has two records named " + c.getSimpleName());
      }
    }
    JsonMapper.Builder b = strict();
    for (Class<?> n : nested) {
      b.addMixIn(n, Polymorphic.class);
      for (Class<?> c : leaves(n)) {
        b.registerSubtypes(new NamedType(c, c.getSimpleName()));
      }
    }
    return new JsonLines<>(wire, sealed, Collections.unmodifiableMap(records), b.build());
  }

  /** The message as JSON bytes, without the newline. */
  public byte[] encode(T message) {
    ObjectNode n = mapper.createObjectNode();
    n.put("type", message.getClass().getSimpleName());
    n.set("body", mapper.valueToTree(message));
    try {
      return mapper.writeValueAsBytes(n);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot encode " + message.getClass().getSimpleName(), e);
    }
  }

  /** Decodes one line; a {@link BadMessage} when it is not a valid message of the type. */
  public T decode(byte[] line) {
    JsonNode n;
    try {
      n = mapper.readTree(line);
    } catch (java.io.IOException e) {
      throw new BadMessage("malformed JSON: " + brief(e));
    }
    if (!(n instanceof ObjectNode o) || !o.path("type").isTextual() || !o.path("body").isObject()
        || o.size() != 2) {
      throw new BadMessage("not a " + wire + " message (want {\"type\": ..., \"body\": {...}})");
    }
    String type = o.get("type").asText();
    Class<? extends T> c = records.get(type);
    if (c == null) {
      throw new BadMessage("unknown " + sealed.getSimpleName() + " type '" + BadMessage.quote(type) + "'");
    }
    try {
      return mapper.treeToValue(o.get("body"), c);
    } catch (JsonProcessingException | IllegalArgumentException | NullPointerException e) {
      throw new BadMessage("bad " + type + ": " + brief(e));
    }
  }

  /** Every record class below a sealed type, through nested sealed interfaces. */
  static List<Class<?>> leaves(Class<?> sealed) {
    if (!sealed.isSealed()) {
      throw new IllegalArgumentException(sealed.getName() + " is not a sealed type");
    }
    List<Class<?>> out = new ArrayList<>();
    for (Class<?> c : sealed.getPermittedSubclasses()) {
      if (c.isRecord()) {
        out.add(c);
      } else if (c.isSealed()) {
        out.addAll(leaves(c));
      } else {
        throw new IllegalArgumentException(c.getName() + " is neither a record nor sealed");
      }
    }
    return out;
  }

  private static JsonMapper.Builder strict() {
    return JsonMapper.builder()
        .addModule(new com.fasterxml.jackson.datatype.jsr310.JavaTimeModule())
        .disable(com.fasterxml.jackson.databind.SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
        .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
        .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
        .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
        .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
        .withCoercionConfig(LogicalType.Textual, c -> c
            .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
            .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
            .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail));
  }

  private static String brief(Exception e) {
    String m = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
    if (e instanceof com.fasterxml.jackson.databind.exc.MismatchedInputException mi && m != null
        && m.startsWith("Cannot map `null` into type") && !mi.getPath().isEmpty()) {
      // A missing number or flag: name the field, not Jackson's setting.
      m = "missing field '" + mi.getPath().get(mi.getPath().size() - 1).getFieldName() + "'";
    }
    return BadMessage.quote(String.valueOf(m));
  }

  /** The mix-in that makes a nested sealed type travel as {"RecordName": {...}}. */
  @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, include = JsonTypeInfo.As.WRAPPER_OBJECT)
  private interface Polymorphic {}
}
