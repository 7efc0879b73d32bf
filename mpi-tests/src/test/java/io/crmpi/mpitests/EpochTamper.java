package io.crmpi.mpitests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * What the owner of a job could do to their own epoch, the way an attacker
 * would: change files of the node's image and put their new digests into
 * the manifest, so that only crmpid's seal can tell.
 */
final class EpochTamper {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path PYCRIU = Crmpi.REPO.resolve("build/crit/usr/lib/python3/dist-packages");

  private EpochTamper() {}

  /** Changes one byte of the first pages image. */
  static void flipAPagesByte(Path epoch, String owner) throws Exception {
    Path pages;
    try (Stream<Path> s = Files.list(image(epoch))) {
      pages = s.filter(f -> f.getFileName().toString().startsWith("pages-")).sorted().findFirst().orElseThrow();
    }
    byte[] b = Files.readAllBytes(pages);
    b[b.length / 2] ^= 0x5a;
    Files.write(pages, b);
    rehash(epoch, List.of(pages), owner);
  }

  /**
   * Rewrites, with crit, the credentials of every process in the image to
   * root's (all uids and gids 0, every capability), and returns how many
   * processes it rewrote.
   */
  static int credentialsToRoot(Path epoch, String owner) throws Exception {
    assertTrue(Files.isRegularFile(PYCRIU.resolve("pycriu/cli.py")),
        "crit is not installed: run scripts/install-crit.sh (scripts/test.sh does)");
    List<Path> changed = new ArrayList<>();
    try (Stream<Path> s = Files.list(image(epoch))) {
      for (Path core : s.filter(f -> f.getFileName().toString().matches("core-\\d+\\.img")).sorted().toList()) {
        JsonNode decoded = JSON.readTree(crit("decode", "-i", core.toString()));
        if (toRoot(decoded) > 0) {
          Path json = Files.createTempFile("core-", ".json");
          try {
            JSON.writeValue(json.toFile(), decoded);
            crit("encode", "-i", json.toString(), "-o", core.toString());
          } finally {
            Files.deleteIfExists(json);
          }
          changed.add(core);
        }
      }
    }
    rehash(epoch, changed, owner);
    return changed.size();
  }

  /** Sets every credentials object under n to root's; returns how many it found. */
  private static int toRoot(JsonNode n) {
    int found = 0;
    if (n instanceof ObjectNode o && o.has("uid") && o.has("euid") && o.has("cap_eff")) {
      for (String id : List.of("uid", "gid", "euid", "egid", "suid", "sgid", "fsuid", "fsgid")) {
        o.put(id, 0);
      }
      for (String caps : List.of("cap_inh", "cap_prm", "cap_eff")) {
        if (o.get(caps) instanceof ArrayNode a) {
          for (int i = 0; i < a.size(); i++) {
            a.set(i, JSON.getNodeFactory().numberNode(0xffffffffL));
          }
        }
      }
      found++;
    }
    for (JsonNode child : n) {
      found += toRoot(child);
    }
    return found;
  }

  private static String crit(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("/usr/bin/python3", "-c",
        "import sys; from pycriu import cli; sys.argv[0] = 'crit'; cli.main()"));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().put("PYTHONPATH", PYCRIU.toString());
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "crit " + args[0] + " hung");
    assertEquals(0, p.exitValue(), "crit " + String.join(" ", args) + ": " + err);
    return out;
  }

  private static Path image(Path epoch) {
    return epoch.resolve("nodes/local/image");
  }

  /** Puts the new digests and sizes of changed into the manifest and gives the files back to the owner. */
  private static void rehash(Path epoch, List<Path> changed, String owner) throws Exception {
    Path manifest = epoch.resolve("manifest.json");
    JsonNode root = JSON.readTree(manifest.toFile());
    for (JsonNode node : root.get("nodes")) {
      for (JsonNode f : node.get("files")) {
        for (Path c : changed) {
          if (f.get("path").asText().equals(c.getFileName().toString())) {
            byte[] b = Files.readAllBytes(c);
            ((ObjectNode) f).put("sha256", HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b)));
            ((ObjectNode) f).put("size", b.length);
          }
        }
      }
    }
    JSON.writerWithDefaultPrettyPrinter().writeValue(manifest.toFile(), root);
    List<String> chown = new ArrayList<>(List.of("chown", owner + ":", manifest.toString()));
    changed.forEach(c -> chown.add(c.toString()));
    assertEquals(0, new ProcessBuilder(chown).inheritIO().start().waitFor(), "chown " + chown);
  }
}
