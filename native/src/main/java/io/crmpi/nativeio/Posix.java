package io.crmpi.nativeio;

import com.sun.jna.LastErrorException;
import java.nio.file.Path;

/**
 * The libc calls that the JDK does not offer, as static methods that turn a
 * failed call into a {@link NativeCallException} naming the call and errno.
 */
public final class Posix {
  public static final int SIGKILL = 9;
  public static final int SIGSTOP = 19;
  public static final int SIGTERM = 15;
  public static final int ESRCH = 3;

  private Posix() {}

  /**
   * Opens a directory without O_CLOEXEC, so that a helper process started
   * by a native library (libcriu's service binary) inherits the descriptor.
   */
  public static int openDirectory(Path dir) {
    try {
      return LibC.INSTANCE.open(dir.toString(), LibC.O_RDONLY | LibC.O_DIRECTORY);
    } catch (LastErrorException e) {
      throw failure("open(" + dir + ")", e);
    }
  }

  /**
   * Opens a directory that must not be a symlink (O_NOFOLLOW on the last
   * component); its contents are then reached through /proc/self/fd, so a
   * rename of the path afterwards changes nothing.
   */
  public static int openDirectoryNoFollow(Path dir) {
    // Normalized first: O_NOFOLLOW guards only the last component, and "link/." or "link/" would follow it.
    String path = Path.of(dir.toString()).normalize().toString();
    try {
      return LibC.INSTANCE.open(path, LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_NOFOLLOW);
    } catch (LastErrorException e) {
      throw failure("open(" + dir + ", O_NOFOLLOW)", e);
    }
  }

  /**
   * Whether some process has file open for writing: a read lease
   * (F_SETLEASE F_RDLCK) is granted only when nobody does. The lease is
   * released at once. Throws when the file system offers no leases.
   */
  public static boolean openForWriting(Path file) {
    int fd;
    try {
      fd = LibC.INSTANCE.open(file.toString(), LibC.O_RDONLY | LibC.O_NOFOLLOW);
    } catch (LastErrorException e) {
      throw failure("open(" + file + ")", e);
    }
    try {
      LibC.INSTANCE.fcntl(fd, LibC.F_SETLEASE, LibC.F_RDLCK);
      LibC.INSTANCE.fcntl(fd, LibC.F_SETLEASE, LibC.F_UNLCK);
      return false;
    } catch (LastErrorException e) {
      if (e.getErrorCode() == 11) { // EAGAIN: a writer holds it open
        return true;
      }
      throw failure("fcntl(" + file + ", F_SETLEASE)", e);
    } finally {
      close(fd);
    }
  }

  /**
   * When file was created (statx STATX_BTIME, not following a final
   * symlink), in nanoseconds since the epoch; empty when the file system
   * does not record it. Throws when the file cannot be looked up.
   */
  public static java.util.OptionalLong birthTime(Path file) {
    com.sun.jna.Memory buf = new com.sun.jna.Memory(LibC.STATX_SIZE);
    buf.clear();
    try {
      LibC.INSTANCE.statx(LibC.AT_FDCWD, file.toString(), LibC.AT_SYMLINK_NOFOLLOW, LibC.STATX_BTIME, buf);
    } catch (LastErrorException e) {
      throw failure("statx(" + file + ")", e);
    }
    if ((buf.getInt(LibC.STX_MASK) & LibC.STATX_BTIME) == 0) {
      return java.util.OptionalLong.empty();
    }
    return java.util.OptionalLong.of(buf.getLong(LibC.STX_BTIME_SEC) * 1_000_000_000L
        + Integer.toUnsignedLong(buf.getInt(LibC.STX_BTIME_NSEC)));
  }

  /** The kernel's record of who is at the other end of a Unix socket: SO_PEERCRED. */
  public record PeerCredentials(long pid, int uid, int gid) {}

  /** SO_PEERCRED of a connected Unix socket (by descriptor). */
  public static PeerCredentials peerCredentials(int fd) {
    int[] ucred = new int[3];
    com.sun.jna.ptr.IntByReference len = new com.sun.jna.ptr.IntByReference(12);
    try {
      LibC.INSTANCE.getsockopt(fd, LibC.SOL_SOCKET, LibC.SO_PEERCRED, ucred, len);
    } catch (LastErrorException e) {
      throw failure("getsockopt(" + fd + ", SO_PEERCRED)", e);
    }
    return new PeerCredentials(ucred[0] & 0xffffffffL, ucred[1], ucred[2]);
  }

  /** A user of the system's user database (NSS: files, LDAP, ...). */
  public record Account(String name, int uid, int gid, java.util.List<Integer> groups) {}

  /** Looks a user up by name, with their supplementary groups; empty when there is no such user. */
  public static java.util.Optional<Account> account(String name) {
    LibC.Passwd pwd = new LibC.Passwd();
    byte[] buf = new byte[16384];
    com.sun.jna.ptr.PointerByReference result = new com.sun.jna.ptr.PointerByReference();
    int rc = LibC.INSTANCE.getpwnam_r(name, pwd, buf, buf.length, result);
    if (rc != 0) {
      throw new NativeCallException("getpwnam_r(" + name + ")", rc, LibC.INSTANCE.strerror(rc));
    }
    return result.getValue() == null ? java.util.Optional.empty() : java.util.Optional.of(withGroups(name, pwd));
  }

  /** Looks a user up by uid, with their supplementary groups; empty when there is no such user. */
  public static java.util.Optional<Account> account(int uid) {
    LibC.Passwd pwd = new LibC.Passwd();
    com.sun.jna.Memory buf = new com.sun.jna.Memory(16384);
    com.sun.jna.ptr.PointerByReference result = new com.sun.jna.ptr.PointerByReference();
    int rc = LibC.INSTANCE.getpwuid_r(uid, pwd, buf, buf.size(), result);
    if (rc != 0) {
      throw new NativeCallException("getpwuid_r(" + uid + ")", rc, LibC.INSTANCE.strerror(rc));
    }
    if (result.getValue() == null) {
      return java.util.Optional.empty();
    }
    Account a = withGroups(pwd.pw_name, pwd);
    return java.util.Optional.of(a);
  }

  private static Account withGroups(String name, LibC.Passwd pwd) {
    int[] groups = new int[64];
    com.sun.jna.ptr.IntByReference n = new com.sun.jna.ptr.IntByReference(groups.length);
    if (LibC.INSTANCE.getgrouplist(name, pwd.pw_gid, groups, n) < 0) {
      groups = new int[n.getValue()];
      n.setValue(groups.length);
      if (LibC.INSTANCE.getgrouplist(name, pwd.pw_gid, groups, n) < 0) {
        throw new NativeCallException("getgrouplist(" + name + ")", 0, "the group list changed while read");
      }
    }
    java.util.List<Integer> list = new java.util.ArrayList<>();
    for (int i = 0; i < n.getValue(); i++) {
      list.add(groups[i]);
    }
    return new Account(name, pwd.pw_uid, pwd.pw_gid, java.util.List.copyOf(list));
  }

  /** fsync(2): makes what fd refers to (a file, or a directory's entries) durable. */
  public static void fsync(int fd) {
    try {
      LibC.INSTANCE.fsync(fd);
    } catch (LastErrorException e) {
      throw failure("fsync(" + fd + ")", e);
    }
  }

  public static void close(int fd) {
    try {
      LibC.INSTANCE.close(fd);
    } catch (LastErrorException e) {
      throw failure("close(" + fd + ")", e);
    }
  }

  public static final int SIGUSR1 = 10;

  /**
   * Unblocks sig for the calling thread, so that a signal that arrived while
   * it was blocked (bin/crmpi starts the JVM with SIGUSR1 blocked, see
   * crmpi-ns hold-signal) is delivered now, to the handler just installed.
   */
  public static void unblockSignal(int sig) {
    try (com.sun.jna.Memory set = new com.sun.jna.Memory(128)) { // sizeof(sigset_t) on Linux
      LibC.INSTANCE.sigemptyset(set);
      LibC.INSTANCE.sigaddset(set, sig);
      int err = LibC.INSTANCE.pthread_sigmask(LibC.SIG_UNBLOCK, set, null);
      if (err != 0) {
        throw new NativeCallException("pthread_sigmask(SIG_UNBLOCK, " + sig + ")", err, "failed");
      }
    } catch (LastErrorException e) {
      throw failure("sigaddset(" + sig + ")", e);
    }
  }

  /** Sends sig to pid; returns false when there is no such process. */
  public static boolean kill(long pid, int sig) {
    if (pid <= 0 || pid > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("pid out of range: " + pid);
    }
    try {
      LibC.INSTANCE.kill((int) pid, sig);
      return true;
    } catch (LastErrorException e) {
      if (e.getErrorCode() == ESRCH) {
        return false;
      }
      throw failure("kill(" + pid + ", " + sig + ")", e);
    }
  }

  /**
   * Drops a file's pages from the page cache (it must be fsynced first).
   * A checkpoint's images are written once and read back only at a
   * restore; keeping gigabytes of them cached slows the next dump down.
   */
  public static void dropFromPageCache(Path file) {
    int fd;
    try {
      fd = LibC.INSTANCE.open(file.toString(), LibC.O_RDONLY);
    } catch (LastErrorException e) {
      throw failure("open(" + file + ")", e);
    }
    try {
      int rc = LibC.INSTANCE.posix_fadvise(fd, 0, 0, LibC.POSIX_FADV_DONTNEED);
      if (rc != 0) {
        throw new NativeCallException("posix_fadvise(" + file + ", DONTNEED)", rc, LibC.INSTANCE.strerror(rc));
      }
    } finally {
      close(fd);
    }
  }

  public static boolean isRoot() {
    return LibC.INSTANCE.geteuid() == 0;
  }

  /** The effective user id of this process. */
  public static int uid() {
    return LibC.INSTANCE.geteuid();
  }

  public static String strerror(int errno) {
    return LibC.INSTANCE.strerror(errno);
  }

  private static NativeCallException failure(String call, LastErrorException e) {
    int errno = e.getErrorCode();
    return new NativeCallException(call, errno, LibC.INSTANCE.strerror(errno));
  }
}
