package io.crmpi.daemon;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Arrays;
import java.util.Set;

/**
 * The cluster's image key: a secret that only root can read (e.g.
 * /etc/crmpi/key, root 0600, the same file on every node, distributed by
 * the admin like munge's key). crmpid seals every image it writes with it
 * and restores only images whose seal it can verify, so no user can make
 * crmpid restore, as root, something they wrote themselves.
 */
public final class NodeKey {
  static final int MIN_BYTES = 32;
  private final byte[] secret;

  private NodeKey(byte[] secret) {
    this.secret = secret;
  }

  /** Reads the key, refusing a key file that someone besides root could read or change. */
  public static NodeKey load(Path file) throws IOException {
    PosixFileAttributes a;
    try {
      a = Files.readAttributes(file, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (java.nio.file.NoSuchFileException e) {
      throw new IOException("the image key " + file + " does not exist: create it on one node with"
          + " 'install -d -m 0700 /etc/crmpi && head -c 64 /dev/urandom > " + file + " && chmod 0600 " + file
          + "' and copy it to every node (scripts/setup.sh does this on a single machine)");
    }
    if (!a.isRegularFile()) {
      throw new IOException("the image key " + file + " is not a regular file (a symlink?): refusing it");
    }
    if (!a.owner().getName().equals("root")) {
      throw new IOException("the image key " + file + " belongs to " + a.owner().getName()
          + ", not root: anyone who can write it can forge images; chown root " + file);
    }
    Set<PosixFilePermission> p = a.permissions();
    if (p.contains(PosixFilePermission.GROUP_READ) || p.contains(PosixFilePermission.GROUP_WRITE)
        || p.contains(PosixFilePermission.OTHERS_READ) || p.contains(PosixFilePermission.OTHERS_WRITE)) {
      throw new IOException("the image key " + file + " is readable or writable by others ("
          + java.nio.file.attribute.PosixFilePermissions.toString(p) + "): chmod 0600 " + file);
    }
    byte[] secret = Files.readAllBytes(file);
    if (secret.length < MIN_BYTES) {
      Arrays.fill(secret, (byte) 0);
      throw new IOException("the image key " + file + " has " + secret.length + " bytes, at least " + MIN_BYTES
          + " are needed: head -c 64 /dev/urandom > " + file);
    }
    return new NodeKey(secret);
  }

  /** A key from bytes (tests). */
  static NodeKey of(byte[] secret) {
    if (secret.length < MIN_BYTES) {
      throw new IllegalArgumentException("key shorter than " + MIN_BYTES + " bytes: " + secret.length);
    }
    return new NodeKey(secret.clone());
  }

  byte[] secret() {
    return secret;
  }
}
