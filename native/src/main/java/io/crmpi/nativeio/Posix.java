package io.crmpi.nativeio;

import com.sun.jna.LastErrorException;
import java.nio.file.Path;

/**
 * The libc calls that the JDK does not offer, as static methods that turn a
 * failed call into a {@link NativeCallException} naming the call and errno.
 */
public final class Posix {
  public static final int SIGKILL = 9;
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

  public static void close(int fd) {
    try {
      LibC.INSTANCE.close(fd);
    } catch (LastErrorException e) {
      throw failure("close(" + fd + ")", e);
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
