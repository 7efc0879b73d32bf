package io.crmpi.nativeio;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;

/** The few libc calls crmpi needs; only {@link Posix} uses it. */
interface LibC extends Library {
  LibC INSTANCE = Native.load("c", LibC.class);

  int O_RDONLY = 0;
  int O_DIRECTORY = 0200000;

  int open(String path, int flags) throws LastErrorException;

  int close(int fd) throws LastErrorException;

  int kill(int pid, int sig) throws LastErrorException;

  int geteuid();

  int POSIX_FADV_DONTNEED = 4;

  /** Returns an error number (not -1 and errno). */
  int posix_fadvise(int fd, long offset, long len, int advice);

  String strerror(int errnum);
}
