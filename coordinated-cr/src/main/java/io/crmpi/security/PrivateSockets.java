package io.crmpi.security;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.Set;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

/**
 * The Unix sockets of a job (control, launch, rank) live in a directory
 * that only the job's owner can enter, and every connection is checked
 * with SO_PEERCRED: only the owner (and root, the admin) may talk to them.
 * A directory that already exists must be a real directory owned by us
 * with mode 0700; anything else (another user's directory, a symlink) is
 * refused with a clear error instead of used, so a squatter can deny a job
 * its sockets but never answer in its place.
 */
public final class PrivateSockets {
  private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");
  private static final UserPrincipal SELF = self();

  private PrivateSockets() {}

  /** Creates dir (and missing parents) owner-only, or checks that an existing dir is ours and 0700. */
  public static Path prepareDirectory(Path dir) throws IOException {
    Path parent = dir.getParent();
    if (parent != null && !Files.isDirectory(parent)) {
      Files.createDirectories(parent);
    }
    try {
      Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
      Files.setPosixFilePermissions(dir, OWNER_ONLY); // whatever the umask took away or left
    } catch (FileAlreadyExistsException e) {
      PosixFileAttributes a = Files.readAttributes(dir, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      if (!a.isDirectory()) {
        throw new IOException("socket directory " + dir + " exists and is not a directory (a symlink?): remove it");
      }
      if (!a.owner().equals(SELF)) {
        throw new IOException("socket directory " + dir + " belongs to " + a.owner().getName() + ", not to "
            + SELF.getName() + ": refusing to use it; remove it, or use a --state-dir of your own");
      }
      if (!a.permissions().equals(OWNER_ONLY)) {
        Files.setPosixFilePermissions(dir, OWNER_ONLY);
      }
    }
    return dir;
  }

  /** Binds a listening socket at path, in a private directory (prepared here), the socket file 0600. */
  public static ServerSocketChannel listen(Path path) throws IOException {
    prepareDirectory(path.getParent());
    Files.deleteIfExists(path);
    ServerSocketChannel s = ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX);
    s.bind(UnixDomainSocketAddress.of(path));
    Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
    return s;
  }

  /**
   * Null when the peer of ch may use the job's sockets (it runs as the
   * job's owner, or as root), else why not.
   */
  public static String refusal(SocketChannel ch) {
    try {
      UnixDomainPrincipal peer = ch.getOption(ExtendedSocketOptions.SO_PEERCRED);
      if (peer.user().equals(SELF) || peer.user().getName().equals("root")) {
        return null;
      }
      return "user " + peer.user().getName() + " is not the job's owner " + SELF.getName();
    } catch (IOException | UnsupportedOperationException e) {
      return "cannot tell who is connecting: " + e.getMessage();
    }
  }

  /** The user this process runs as. */
  public static UserPrincipal owner() {
    return SELF;
  }

  private static UserPrincipal self() {
    try {
      return Files.getOwner(Path.of("/proc/self"));
    } catch (IOException e) {
      throw new IllegalStateException("cannot tell which user this process runs as: " + e.getMessage(), e);
    }
  }
}
