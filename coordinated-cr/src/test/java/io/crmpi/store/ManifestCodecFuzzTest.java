package io.crmpi.store;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crmpi.wire.BadMessage;
import io.crmpi.wire.Fuzz;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Whatever a manifest.json holds, the codec gives a valid manifest or a ManifestException, nothing else. */
class ManifestCodecFuzzTest {
  @Test
  void anyManifestParsesOrIsRefusedWithAManifestException() {
    List<byte[]> corpus = List.of(ManifestCodec.toJson(ManifestCodecTest.sample()));
    String[] tokens = {"{", "}", "[", "]", "\"", ":", ",", "null", "true", "0", "-1", "1e999", "0.5", "\\u0000",
        "\"\"", "{}", "[]", "\"../x\"", "\"/abs\"", "\"formatVersion\":", "\"epoch\":", "\"nodes\":", "\"files\":",
        "\"size\":", "\"sha256\":", "\"path\":"};
    long[] stats = Fuzz.run("ManifestCodec", corpus, tokens, b -> {
      try {
        return ManifestCodec.parse(b, "manifest.json");
      } catch (ManifestException e) {
        throw new BadMessage(String.valueOf(e.getMessage()));
      }
    });
    assertTrue(stats[2] > 0, "nothing was refused");
  }
}
