package io.crmpi.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ManifestCodecTest {
  static final String SHA_ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

  @TempDir
  Path dir;

  static Manifest sample() {
    NodeImage image = new NodeImage("node-01", "nodes/node-01/image",
        List.of(new FileDigest("core-1.img", 3, SHA_ABC), new FileDigest("sub/pages-1.img", 3, SHA_ABC)),
        "nodes/node-01/workdir", "/scratch/run", List.of(new FileDigest("out.txt", 3, SHA_ABC)),
        Map.of("stdout", "pipe:[1]", "stderr", "pipe:[2]"));
    NodeImage bare = new NodeImage("node-02", "nodes/node-02/image",
        List.of(new FileDigest("core-1.img", 3, SHA_ABC)), null, null, null, null);
    NodeImage written = new NodeImage("node-03", "nodes/node-03/image",
        List.of(new FileDigest("core-1.img", 3, SHA_ABC)), "nodes/node-03/workdir", "/scratch/run",
        List.of(new FileDigest("out/r.txt", 3, SHA_ABC)), Map.of(),
        new WorkdirRecord(Instant.parse("2024-05-01T12:00:00.000000001Z"), List.of(
            new WrittenFile("out/r.txt", WrittenFile.State.COPY, 3, SHA_ABC, 0640),
            new WrittenFile("run.log", WrittenFile.State.APPEND, 3, SHA_ABC, 0600),
            WrittenFile.absent("gone.tmp"))));
    return new Manifest(1, "job-7", 12, Instant.parse("2024-05-01T12:00:00.123456Z"), "criu", "manual",
        new Timings(1, 2, 3, 4), List.of(image, bare, written));
  }

  static String json() {
    return new String(ManifestCodec.toJson(sample()), StandardCharsets.UTF_8);
  }

  static ManifestException malformed(String json) {
    return assertThrows(ManifestException.class, () -> ManifestCodec.parse(json, "/x/manifest.json"));
  }

  @Test
  void roundTripGivesAnEqualManifest() throws IOException {
    Path file = Files.write(dir.resolve("manifest.json"), ManifestCodec.toJson(sample()));
    assertEquals(sample(), ManifestCodec.read(file));
  }

  @Test
  void writesPrettyPrintedJsonWithIsoInstants() {
    String json = json();
    assertTrue(json.contains("\n  \"job\" : \"job-7\""), json);
    assertTrue(json.contains("\"createdAt\" : \"2024-05-01T12:00:00.123456Z\""), json);
    assertTrue(json.endsWith("}\n"), json);
    assertFalse(json.contains("totalBytes"), json);
  }

  @Test
  void absentWorkdirIsReadAsNone() throws IOException {
    NodeImage bare = ManifestCodec.parse(json(), "m").nodes().get(1);
    assertNull(bare.workdirDir());
    assertEquals(List.of(), bare.workdirFiles());
    assertEquals(Map.of(), bare.attributes());
  }

  @Test
  void writtenFilesRoundTripAndMustMatchTheSnapshotsCopies() throws IOException {
    NodeImage written = ManifestCodec.parse(json(), "m").nodes().get(2);
    assertEquals(3, written.written().files().size());
    assertNull(ManifestCodec.parse(json(), "m").nodes().get(0).written(), "a manifest of crmpi 1 has no record");
    String json = json().replace("\"state\" : \"COPY\"", "\"state\" : \"APPEND\"");
    assertTrue(malformed(json).getMessage().contains("written file out/r.txt (APPEND) does not match the"
        + " snapshot's files"), malformed(json).getMessage());
    assertTrue(malformed(json().replace("\"gone.tmp\"", "\"../gone.tmp\"")).getMessage()
        .contains("path must be relative and inside the working directory"));
    assertTrue(malformed(json().replace("\"state\" : \"ABSENT\"", "\"state\" : \"LOST\""))
        .getMessage().contains("LOST"));
  }

  @Test
  void unknownFieldsAreIgnored() throws IOException {
    String json = json()
        .replaceFirst("\\{", "{ \"compression\": {\"kind\": \"zstd\"},")
        .replace("\"node\" : \"node-02\"", "\"node\" : \"node-02\", \"gpu\" : true");
    assertEquals(sample(), ManifestCodec.parse(json, "m"));
  }

  @Test
  void textThatIsNotJsonNamesTheFile() {
    ManifestException e = malformed("{\"formatVersion\": 1, \"job\": ");
    assertTrue(e.getMessage().startsWith("manifest /x/manifest.json is malformed: not JSON"), e.getMessage());
    assertFalse(e.getMessage().contains("\n"), e.getMessage());
    assertEquals("/x/manifest.json", e.source());
  }

  @Test
  void emptyInputIsMalformed() {
    assertEquals("manifest /x/manifest.json is malformed: empty", malformed("").getMessage());
  }

  @Test
  void aJsonArrayIsNotAManifest() {
    assertTrue(malformed("[1, 2]").getMessage().contains("not a JSON object"));
  }

  @Test
  void readOfAFileNamesThatFile() throws IOException {
    Path file = Files.writeString(dir.resolve("manifest.json"), "not json at all");
    ManifestException e = assertThrows(ManifestException.class, () -> ManifestCodec.read(file));
    assertTrue(e.getMessage().startsWith("manifest " + file + " is malformed: "), e.getMessage());
  }

  @Test
  void aMissingFieldIsNamed() {
    String json = json().replace("\"epoch\" : 12,", "");
    assertEquals("manifest /x/manifest.json is malformed: missing field 'epoch'",
        malformed(json).getMessage());
  }

  @Test
  void aMissingNestedFieldIsNamedWithItsPath() {
    String json = json().replaceFirst("\"size\" : ", "\"bytes\" : ");
    assertEquals("manifest /x/manifest.json is malformed: missing field 'nodes[0].files[0].size'",
        malformed(json).getMessage());
  }

  @Test
  void anImageFileWithoutItsDigestIsReadAsNotYetSealedAndAWorkdirFileWithoutOneIsMalformed() throws Exception {
    String json = json().replaceFirst(",\\s*\"sha256\" : \"" + SHA_ABC + "\"", "");
    Manifest m = ManifestCodec.parse(json, "/x/manifest.json");
    assertFalse(m.sealed(), "an image file without its sha256: committed before its seal");
    assertFalse(m.nodes().get(0).files().get(0).digested());
    Manifest again = ManifestCodec.parse(new String(ManifestCodec.toJson(m), StandardCharsets.UTF_8), "again");
    assertEquals(m, again, "an unsealed manifest round-trips");
    Manifest timed = m.withTimings(m.timings().sealedAfter(612));
    assertEquals(timed, ManifestCodec.parse(new String(ManifestCodec.toJson(timed), StandardCharsets.UTF_8), "t"));
    assertTrue(new String(ManifestCodec.toJson(m), StandardCharsets.UTF_8).indexOf("sealMillis") < 0,
        "no sealMillis field when there was no seal after the commit");
  }

  @Test
  void aNullFieldIsMalformed() {
    String json = json().replace("\"engine\" : \"criu\"", "\"engine\" : null");
    assertEquals("manifest /x/manifest.json is malformed: field 'engine' is null",
        malformed(json).getMessage());
  }

  @Test
  void aMissingFormatVersionIsMalformed() {
    String json = json().replace("\"formatVersion\" : 1,", "");
    assertEquals("manifest /x/manifest.json is malformed: missing field 'formatVersion'",
        malformed(json).getMessage());
  }

  @Test
  void anUnknownFormatVersionSaysWhichVersionsAreKnown() {
    String json = json().replace("\"formatVersion\" : 1,", "\"formatVersion\" : 99,");
    assertEquals("manifest /x/manifest.json has formatVersion 99, this crmpi reads 1..2",
        malformed(json).getMessage());
  }

  @Test
  void aValueOfTheWrongTypeIsNamed() {
    String json = json().replace("\"epoch\" : 12,", "\"epoch\" : \"twelve\",");
    String message = malformed(json).getMessage();
    assertTrue(message.startsWith("manifest /x/manifest.json is malformed: bad value at 'epoch': "), message);
    assertFalse(message.contains("\n"), message);
  }

  @Test
  void aFractionalNumberIsNotAnInteger() {
    String json = json().replace("\"epoch\" : 12,", "\"epoch\" : 12.5,");
    assertTrue(malformed(json).getMessage().contains("bad value at 'epoch'"));
  }

  @Test
  void aValueTheRecordRejectsIsReportedWithTheRecordsMessage() {
    String json = json().replace("\"epoch\" : 12,", "\"epoch\" : -3,");
    assertEquals("manifest /x/manifest.json is malformed: epoch <= 0: -3", malformed(json).getMessage());
  }

  @Test
  void aBadDigestIsReportedWithItsValue() {
    String json = json().replaceFirst(SHA_ABC, "XYZ");
    String message = malformed(json).getMessage();
    assertTrue(message.contains("nodes[0].files[0]"), message);
    assertTrue(message.contains("sha256 is not 64 lower-case hex digits: XYZ"), message);
  }

  @Test
  void aBadInstantIsMalformed() {
    String json = json().replace("2024-05-01T12:00:00.123456Z", "yesterday");
    assertTrue(malformed(json).getMessage().contains("bad value at 'createdAt'"));
  }

  @Test
  void duplicateFieldsAreMalformed() {
    String json = json().replace("\"epoch\" : 12,", "\"epoch\" : 12, \"epoch\" : 13,");
    assertTrue(malformed(json).getMessage().contains("epoch"));
  }
}
