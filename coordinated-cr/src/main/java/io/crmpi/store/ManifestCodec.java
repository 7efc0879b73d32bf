package io.crmpi.store;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;

/**
 * Reads and writes {@link Manifest} records as pretty-printed JSON, with
 * instants as ISO-8601 strings. Reading checks the format version first,
 * then that every required field is present, and ignores fields it does not
 * know, so that a newer crmpi can add optional fields. Anything wrong with
 * the input is a {@link ManifestException} whose message is one line naming
 * the source and the problem.
 */
public final class ManifestCodec {
  private static final String[] MANIFEST_FIELDS =
      {"job", "epoch", "createdAt", "engine", "trigger", "timings", "nodes"};
  private static final String[] TIMINGS_FIELDS =
      {"prepareMillis", "dumpMillis", "frozenMillis", "totalMillis"};
  private static final String[] NODE_FIELDS = {"node", "imageDir", "files"};
  private static final String[] FILE_FIELDS = {"path", "size", "sha256"};
  /** An image file of an epoch committed before its seal: no SHA-256 yet. */
  private static final String[] IMAGE_FILE_FIELDS = {"path", "size"};

  private static final ObjectMapper MAPPER = JsonMapper.builder()
      .addModule(new JavaTimeModule())
      .enable(SerializationFeature.INDENT_OUTPUT)
      .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
      .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
      .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .disable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
      .serializationInclusion(JsonInclude.Include.NON_NULL)
      .build();

  private ManifestCodec() {}

  /** Reads the manifest in file; I/O failures are plain IOExceptions. */
  public static Manifest read(Path file) throws IOException {
    return parse(Files.readAllBytes(file), file.toString());
  }

  /** Decodes a manifest; sourceName is what error messages call it. */
  public static Manifest parse(String json, String sourceName) throws ManifestException {
    return parse(json.getBytes(StandardCharsets.UTF_8), sourceName);
  }

  /** Decodes a manifest; sourceName is what error messages call it. */
  public static Manifest parse(byte[] json, String sourceName) throws ManifestException {
    JsonNode root;
    try {
      root = MAPPER.readTree(json);
    } catch (JsonProcessingException e) {
      throw new ManifestException(sourceName, "not JSON: " + describe(e));
    } catch (IOException e) {
      throw new ManifestException(sourceName, oneLine(String.valueOf(e.getMessage())));
    }
    if (root == null || root.isMissingNode()) {
      throw new ManifestException(sourceName, "empty");
    }
    if (!root.isObject()) {
      throw new ManifestException(sourceName, "not a JSON object but " + root.getNodeType());
    }
    checkFormatVersion(root, sourceName);
    checkRequired(root, sourceName);
    try {
      return MAPPER.treeToValue(root, Manifest.class);
    } catch (JsonProcessingException e) {
      throw new ManifestException(sourceName, describe(e));
    }
  }

  /** Encodes a manifest as pretty-printed UTF-8 JSON ending in a newline. */
  public static byte[] toJson(Manifest manifest) {
    try {
      return (MAPPER.writeValueAsString(manifest) + "\n").getBytes(StandardCharsets.UTF_8);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot encode manifest of epoch " + manifest.epoch(), e);
    }
  }

  private static void checkFormatVersion(JsonNode root, String source) throws ManifestException {
    JsonNode version = root.get("formatVersion");
    if (version == null) {
      throw new ManifestException(source, "missing field 'formatVersion'");
    }
    if (!version.canConvertToExactIntegral() || !version.canConvertToInt()) {
      throw new ManifestException(source, "formatVersion is not an integer: " + version);
    }
    int v = version.asInt();
    if (v < 1 || v > Manifest.FORMAT_VERSION) {
      throw new ManifestException(source, v);
    }
  }

  /** Checks presence of every field that the records may not default. */
  private static void checkRequired(JsonNode root, String source) throws ManifestException {
    require(root, "", MANIFEST_FIELDS, source);
    if (root.get("timings").isObject()) {
      require(root.get("timings"), "timings.", TIMINGS_FIELDS, source);
    }
    JsonNode nodes = root.get("nodes");
    for (int i = 0; nodes.isArray() && i < nodes.size(); i++) {
      String at = "nodes[" + i + "]";
      JsonNode node = requireObject(nodes.get(i), at, source);
      require(node, at + ".", NODE_FIELDS, source);
      requireFiles(node.get("files"), at + ".files", IMAGE_FILE_FIELDS, source);
      requireFiles(node.get("workdirFiles"), at + ".workdirFiles", FILE_FIELDS, source);
      JsonNode attributes = node.get("attributes");
      if (attributes != null && attributes.isObject()) {
        for (Iterator<Map.Entry<String, JsonNode>> it = attributes.fields(); it.hasNext(); ) {
          Map.Entry<String, JsonNode> e = it.next();
          if (e.getValue().isNull()) {
            throw new ManifestException(source, "field '" + at + ".attributes." + e.getKey() + "' is null");
          }
        }
      }
    }
  }

  private static void requireFiles(JsonNode files, String at, String[] fields, String source)
      throws ManifestException {
    for (int i = 0; files != null && files.isArray() && i < files.size(); i++) {
      String fileAt = at + "[" + i + "]";
      require(requireObject(files.get(i), fileAt, source), fileAt + ".", fields, source);
    }
  }

  private static JsonNode requireObject(JsonNode node, String at, String source) throws ManifestException {
    if (!node.isObject()) {
      throw new ManifestException(source, "'" + at + "' is not an object but " + node.getNodeType());
    }
    return node;
  }

  private static void require(JsonNode object, String prefix, String[] fields, String source)
      throws ManifestException {
    for (String field : fields) {
      JsonNode value = object.get(field);
      if (value == null) {
        throw new ManifestException(source, "missing field '" + prefix + field + "'");
      }
      if (value.isNull()) {
        throw new ManifestException(source, "field '" + prefix + field + "' is null");
      }
    }
  }

  /** One line: where in the document, and what Jackson or a record constructor said. */
  private static String describe(JsonProcessingException e) {
    String what = e.getOriginalMessage();
    Throwable cause = e.getCause();
    if (cause instanceof IllegalArgumentException || cause instanceof NullPointerException) {
      what = cause.getMessage() == null ? cause.toString() : cause.getMessage();
    }
    StringBuilder where = new StringBuilder();
    if (e instanceof JsonMappingException m) {
      for (JsonMappingException.Reference ref : m.getPath()) {
        if (ref.getFieldName() != null) {
          where.append(where.length() == 0 ? "" : ".").append(ref.getFieldName());
        } else if (ref.getIndex() >= 0) {
          where.append('[').append(ref.getIndex()).append(']');
        }
      }
    }
    if (where.length() > 0) {
      return "bad value at '" + where + "': " + oneLine(what);
    }
    if (e.getLocation() != null && e.getLocation().getLineNr() > 0) {
      return oneLine(what) + " (line " + e.getLocation().getLineNr()
          + ", column " + e.getLocation().getColumnNr() + ")";
    }
    return oneLine(what);
  }

  /** Folds text into one line, without Jackson's hints on how to configure Jackson. */
  private static String oneLine(String text) {
    if (text == null) {
      return "unknown error";
    }
    return text.strip()
        .replaceAll("\\s*\\R\\s*", " ")
        .replaceAll("\\s*\\(but [^()]*CoercionConfig[^()]*\\)", "");
  }
}
