package io.crmpi.daemon;

import static io.crmpi.daemon.DaemonSamples.SHA_ABC;
import static io.crmpi.daemon.DaemonSamples.SHA_EMPTY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crmpi.store.FileDigest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ImageSealTest {
  private static final String SHA_OTHER = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
  private static final byte[] KEY = "0123456789abcdef0123456789abcdef-crmpi-test-key".getBytes(StandardCharsets.US_ASCII);
  private static final ImageSeal SEAL = new ImageSeal(NodeKey.of(KEY));

  /** One image: everything the seal covers. */
  private record Image(int uid, TreeId tree, long epoch, List<FileDigest> files, Map<String, String> attributes) {
    Image uid(int u) {
      return new Image(u, tree, epoch, files, attributes);
    }

    Image tree(TreeId t) {
      return new Image(uid, t, epoch, files, attributes);
    }

    Image epoch(long e) {
      return new Image(uid, tree, e, files, attributes);
    }

    Image files(List<FileDigest> f) {
      return new Image(uid, tree, epoch, f, attributes);
    }

    Image attributes(Map<String, String> a) {
      return new Image(uid, tree, epoch, files, a);
    }

    String seal(ImageSeal s) {
      return s.seal(uid, tree, epoch, files, attributes);
    }

    /** The attributes as a manifest carries them: with the seal. */
    Map<String, String> sealedAttributes(String seal) {
      Map<String, String> a = new HashMap<>(attributes);
      a.put(ImageSeal.ATTRIBUTE, seal);
      return a;
    }

    String refusal(ImageSeal s, Map<String, String> manifestAttributes) {
      return s.refusal(uid, tree, epoch, files, manifestAttributes);
    }
  }

  private static Image image() {
    return new Image(1000, new TreeId("job-7", "node-01"), 3,
        List.of(new FileDigest("core-1.img", 3, SHA_ABC), new FileDigest("pages-1.img", 0, SHA_EMPTY),
            new FileDigest("inventory.img", 5, SHA_OTHER)),
        Map.of("stdout", "pipe:[1]", "stderr", "pipe:[2]", "criu", "3.19"));
  }

  private static List<FileDigest> replace(List<FileDigest> files, int i, FileDigest f) {
    List<FileDigest> l = new ArrayList<>(files);
    l.set(i, f);
    return l;
  }

  /** The refusal of image b when it carries the seal of image a. */
  private static String refusalOf(Image sealed, Image presented) {
    return presented.refusal(SEAL, presented.sealedAttributes(sealed.seal(SEAL)));
  }

  private static void assertBroken(Image changed) {
    String why = refusalOf(image(), changed);
    assertNotNull(why, "a seal of " + image() + " verified for " + changed);
    assertTrue(why.contains("does not match"), why);
    assertTrue(why.contains("changed after crmpid wrote it"), why);
  }

  @Test
  void aSealVerifiesForTheImageItSealed() {
    Image i = image();
    assertNull(i.refusal(SEAL, i.sealedAttributes(i.seal(SEAL))));
  }

  @Test
  void aSealIs64LowerCaseHexDigitsAndDeterministic() {
    String s = image().seal(SEAL);
    assertTrue(s.matches("[0-9a-f]{64}"), s);
    assertEquals(s, image().seal(new ImageSeal(NodeKey.of(KEY.clone()))));
  }

  @Test
  void aSealVerifiesWithAnotherInstanceOfTheSameKey() {
    Image i = image();
    ImageSeal other = new ImageSeal(NodeKey.of(Arrays.copyOf(KEY, KEY.length)));
    assertNull(i.refusal(other, i.sealedAttributes(i.seal(SEAL))));
  }

  @Test
  void anotherUidBreaksTheSeal() {
    assertBroken(image().uid(1001));
    assertBroken(image().uid(0));
  }

  @Test
  void anotherJobBreaksTheSeal() {
    assertBroken(image().tree(new TreeId("job-8", "node-01")));
  }

  @Test
  void anotherNodeBreaksTheSeal() {
    assertBroken(image().tree(new TreeId("job-7", "node-02")));
  }

  @Test
  void movingCharactersBetweenJobAndNodeBreaksTheSeal() {
    Image a = image().tree(new TreeId("ab", "c"));
    Image b = image().tree(new TreeId("a", "bc"));
    assertNotEquals(a.seal(SEAL), b.seal(SEAL));
    assertNotNull(b.refusal(SEAL, b.sealedAttributes(a.seal(SEAL))));
  }

  @Test
  void anotherEpochBreaksTheSeal() {
    assertBroken(image().epoch(4));
    assertBroken(image().epoch(2));
  }

  @Test
  void aChangedFilePathBreaksTheSeal() {
    Image i = image();
    assertBroken(i.files(replace(i.files(), 0, new FileDigest("core-2.img", 3, SHA_ABC))));
  }

  @Test
  void aChangedFileSizeBreaksTheSeal() {
    Image i = image();
    assertBroken(i.files(replace(i.files(), 0, new FileDigest("core-1.img", 4, SHA_ABC))));
    assertBroken(i.files(replace(i.files(), 1, new FileDigest("pages-1.img", 1, SHA_EMPTY))));
  }

  @Test
  void aChangedFileDigestBreaksTheSeal() {
    Image i = image();
    assertBroken(i.files(replace(i.files(), 0, new FileDigest("core-1.img", 3, SHA_OTHER))));
    // one hex digit
    String flipped = (SHA_ABC.charAt(0) == 'b' ? "c" : "b") + SHA_ABC.substring(1);
    assertBroken(i.files(replace(i.files(), 0, new FileDigest("core-1.img", 3, flipped))));
  }

  @Test
  void anAddedFileBreaksTheSeal() {
    Image i = image();
    List<FileDigest> more = new ArrayList<>(i.files());
    more.add(new FileDigest("extra.img", 0, SHA_EMPTY));
    assertBroken(i.files(more));
  }

  @Test
  void aDuplicatedFileBreaksTheSeal() {
    Image i = image();
    List<FileDigest> more = new ArrayList<>(i.files());
    more.add(i.files().get(0));
    assertBroken(i.files(more));
  }

  @Test
  void aRemovedFileBreaksTheSeal() {
    Image i = image();
    assertBroken(i.files(i.files().subList(0, 2)));
    assertBroken(i.files(List.of()));
  }

  @Test
  void fileOrderDoesNotMatter() {
    Image i = image();
    List<FileDigest> reversed = new ArrayList<>(i.files());
    java.util.Collections.reverse(reversed);
    assertEquals(i.seal(SEAL), i.files(reversed).seal(SEAL));
    assertNull(refusalOf(i, i.files(reversed)));
  }

  @Test
  void attributeOrderDoesNotMatter() {
    Image i = image();
    Map<String, String> ordered = new java.util.TreeMap<>(java.util.Comparator.reverseOrder());
    ordered.putAll(i.attributes());
    assertEquals(i.seal(SEAL), i.attributes(ordered).seal(SEAL));
  }

  @Test
  void aChangedAttributeBreaksTheSeal() {
    Map<String, String> a = new HashMap<>(image().attributes());
    a.put("stdout", "pipe:[9]");
    assertBroken(image().attributes(a));
  }

  @Test
  void anAddedAttributeBreaksTheSeal() {
    Map<String, String> a = new HashMap<>(image().attributes());
    a.put("extra", "");
    assertBroken(image().attributes(a));
  }

  @Test
  void aRemovedAttributeBreaksTheSeal() {
    Map<String, String> a = new HashMap<>(image().attributes());
    a.remove("criu");
    assertBroken(image().attributes(a));
  }

  @Test
  void movingCharactersBetweenAnAttributesKeyAndValueBreaksTheSeal() {
    Image a = image().attributes(Map.of("ab", "c"));
    Image b = image().attributes(Map.of("a", "bc"));
    assertNotEquals(a.seal(SEAL), b.seal(SEAL));
    // nor can a value that looks like the sealed text's framing forge another attribute
    Image c = image().attributes(Map.of("a", "1:b\n1:c"));
    Image d = image().attributes(Map.of("a", "1:b", "c", ""));
    assertNotEquals(c.seal(SEAL), d.seal(SEAL));
  }

  @Test
  void aDifferentKeyBreaksTheSeal() {
    Image i = image();
    byte[] other = KEY.clone();
    other[0] ^= 1;
    String why = i.refusal(new ImageSeal(NodeKey.of(other)), i.sealedAttributes(i.seal(SEAL)));
    assertNotNull(why);
    assertTrue(why.contains("key changed"), why);
  }

  @Test
  void aMissingSealIsRefused() {
    Image i = image();
    String why = i.refusal(SEAL, i.attributes());
    assertNotNull(why);
    assertTrue(why.contains("carries no crmpid seal"), why);
  }

  @Test
  void aSealThatIsNotHexIsRefused() {
    Image i = image();
    for (String bad : new String[] {"xyz", "0", i.seal(SEAL).substring(1), "g" + i.seal(SEAL).substring(1)}) {
      String why = i.refusal(SEAL, i.sealedAttributes(bad));
      assertNotNull(why, bad);
      assertTrue(why.contains("not hex"), bad + ": " + why);
    }
  }

  @Test
  void aTruncatedEmptyOrOtherSealIsRefused() {
    Image i = image();
    String s = i.seal(SEAL);
    for (String bad : new String[] {"", s.substring(2), s + "00", "00".repeat(32), image().epoch(9).seal(SEAL)}) {
      String why = i.refusal(SEAL, i.sealedAttributes(bad));
      assertNotNull(why, bad);
      assertTrue(why.contains("does not match"), bad + ": " + why);
    }
  }

  @Test
  void aSealCannotBeMovedToAnotherUsersImage() {
    // the same files and tree, sealed for uid 1000, presented by uid 1001
    Image mine = image();
    Image theirs = image().uid(1001);
    assertNotNull(theirs.refusal(SEAL, theirs.sealedAttributes(mine.seal(SEAL))));
  }

  @Test
  void theSealAttributeItselfIsNotSealed() {
    // refusal removes the seal before it recomputes: a manifest's attributes verify as a whole
    Image i = image();
    Map<String, String> manifest = i.sealedAttributes(i.seal(SEAL));
    assertNull(i.refusal(SEAL, Map.copyOf(manifest)));
  }

  @Test
  void aKeyShorterThan32BytesIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> NodeKey.of(new byte[31]));
  }

  @Test
  void aKeyIsCopiedSoChangingTheArrayLaterChangesNothing() {
    byte[] k = KEY.clone();
    ImageSeal s = new ImageSeal(NodeKey.of(k));
    String before = image().seal(s);
    k[0] ^= 1;
    assertEquals(before, image().seal(s));
  }

  @Test
  void nonAsciiNamesAndValuesAreSealedByTheirUtf8Bytes() {
    Image a = image().attributes(Map.of("k", "\u00e9"));
    Image b = image().attributes(Map.of("k", "e\u0301"));
    assertNotEquals(a.seal(SEAL), b.seal(SEAL));
    assertNull(a.refusal(SEAL, a.sealedAttributes(a.seal(SEAL))));
  }
}
