package io.crmpi.daemon;

import io.crmpi.store.FileDigest;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * crmpid's seal over one node's image: an HMAC-SHA256, under the
 * cluster's {@link NodeKey}, of who owns the image (uid), which tree and
 * epoch it is, every file's name, size and SHA-256, and every attribute a
 * restore uses. Each field goes in with its length, so no two different
 * images have the same sealed text. The seal travels as the image's
 * {@value #ATTRIBUTE} attribute in the manifest.
 */
public final class ImageSeal {
  /** The manifest attribute that carries the seal. */
  public static final String ATTRIBUTE = "crmpidSeal";
  private static final String VERSION = "crmpi-image-seal-v1";
  private final NodeKey key;

  public ImageSeal(NodeKey key) {
    this.key = key;
  }

  /** The seal of an image (attributes must not contain the seal itself). */
  public String seal(int uid, TreeId tree, long epoch, List<FileDigest> files, Map<String, String> attributes) {
    return HexFormat.of().formatHex(mac(text(uid, tree, epoch, files, attributes)));
  }

  /**
   * Null when attributes carry a valid seal over this image, else why not:
   * the image was changed after crmpid wrote it, belongs to someone else,
   * or was never sealed.
   */
  public String refusal(int uid, TreeId tree, long epoch, List<FileDigest> files, Map<String, String> attributes) {
    String seal = attributes.get(ATTRIBUTE);
    if (seal == null) {
      return "it carries no crmpid seal (it was written without crmpid, or by a crmpi older than the seal)";
    }
    Map<String, String> rest = new TreeMap<>(attributes);
    rest.remove(ATTRIBUTE);
    byte[] expected = mac(text(uid, tree, epoch, files, rest));
    byte[] given;
    try {
      given = HexFormat.of().parseHex(seal);
    } catch (IllegalArgumentException e) {
      return "its seal is not hex";
    }
    if (!MessageDigest.isEqual(expected, given)) {
      return "its seal does not match: the image or its manifest entry was changed after crmpid wrote it,"
          + " it is another user's, or the cluster's image key changed";
    }
    return null;
  }

  private static byte[] text(int uid, TreeId tree, long epoch, List<FileDigest> files,
      Map<String, String> attributes) {
    StringBuilder b = new StringBuilder();
    field(b, VERSION);
    field(b, Integer.toString(uid));
    field(b, tree.job());
    field(b, tree.node());
    field(b, Long.toString(epoch));
    List<FileDigest> sorted = files.stream().sorted(Comparator.comparing(FileDigest::path)).toList();
    field(b, Integer.toString(sorted.size()));
    for (FileDigest f : sorted) {
      field(b, f.path());
      field(b, Long.toString(f.size()));
      field(b, f.sha256());
    }
    Map<String, String> a = new TreeMap<>(attributes);
    field(b, Integer.toString(a.size()));
    a.forEach((k, v) -> {
      field(b, k);
      field(b, v);
    });
    return b.toString().getBytes(StandardCharsets.UTF_8);
  }

  private static void field(StringBuilder b, String s) {
    b.append(s.getBytes(StandardCharsets.UTF_8).length).append(':').append(s).append('\n');
  }

  private byte[] mac(byte[] text) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key.secret(), "HmacSHA256"));
      return mac.doFinal(text);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available: " + e, e);
    }
  }
}
