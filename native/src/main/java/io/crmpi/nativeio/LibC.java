package io.crmpi.nativeio;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;

/** The few libc calls crmpi needs; only {@link Posix} uses it. */
interface LibC extends Library {
  LibC INSTANCE = Native.load("c", LibC.class);

  int O_RDONLY = 0;
  int O_DIRECTORY = 0200000;
  int O_NOFOLLOW = 0400000;

  /** struct passwd of glibc. */
  @com.sun.jna.Structure.FieldOrder({"pw_name", "pw_passwd", "pw_uid", "pw_gid", "pw_gecos", "pw_dir", "pw_shell"})
  class Passwd extends com.sun.jna.Structure {
    public String pw_name;
    public String pw_passwd;
    public int pw_uid;
    public int pw_gid;
    public String pw_gecos;
    public String pw_dir;
    public String pw_shell;
  }

  /** Returns an error number (0 when found; result null when there is no such user). */
  int getpwnam_r(String name, Passwd pwd, byte[] buf, long buflen, com.sun.jna.ptr.PointerByReference result);

  /**
   * Returns an error number (0 when found; result null when there is no such user). The strings of pwd point
   * into buf, so buf is native memory that outlives the call (a byte[] would be a temporary copy).
   */
  int getpwuid_r(int uid, Passwd pwd, com.sun.jna.Pointer buf, long buflen,
      com.sun.jna.ptr.PointerByReference result);

  /** Returns the number of groups, or -1 when groups is too small (ngroups then holds the number needed). */
  int getgrouplist(String user, int group, int[] groups, com.sun.jna.ptr.IntByReference ngroups);

  int open(String path, int flags) throws LastErrorException;

  int close(int fd) throws LastErrorException;

  int fsync(int fd) throws LastErrorException;

  int F_SETLEASE = 1024;
  int F_RDLCK = 0;
  int F_UNLCK = 2;

  int fcntl(int fd, int cmd, long arg) throws LastErrorException;

  int SOL_SOCKET = 1;
  int SO_PEERCRED = 17;

  /** getsockopt with an int array as the option value (struct ucred is three ints: pid, uid, gid). */
  int getsockopt(int fd, int level, int optname, int[] optval, com.sun.jna.ptr.IntByReference optlen)
      throws LastErrorException;

  int kill(int pid, int sig) throws LastErrorException;

  int SIG_UNBLOCK = 1;

  int sigemptyset(com.sun.jna.Pointer set) throws LastErrorException;

  int sigaddset(com.sun.jna.Pointer set, int sig) throws LastErrorException;

  /** Returns an error number (not -1 and errno). */
  int pthread_sigmask(int how, com.sun.jna.Pointer set, com.sun.jna.Pointer oldset);

  int geteuid();

  int POSIX_FADV_WILLNEED = 3;
  int POSIX_FADV_DONTNEED = 4;
  int O_CLOEXEC = 02000000;
  int O_NONBLOCK = 04000;

  /** Returns an error number (not -1 and errno). */
  int posix_fadvise(int fd, long offset, long len, int advice);

  String strerror(int errnum);

  /** syscall(2), for calls glibc does not wrap (sched_getattr, sched_setattr); varargs as in C. */
  long syscall(long number, Object... args) throws LastErrorException;

  int AT_FDCWD = -100;
  int AT_SYMLINK_NOFOLLOW = 0x100;
  int STATX_BTIME = 0x800;
  /** sizeof(struct statx) of the kernel's uapi. */
  int STATX_SIZE = 256;
  /** Offsets in struct statx: stx_mask (u32), stx_btime.tv_sec (s64), stx_btime.tv_nsec (u32). */
  int STX_MASK = 0;
  int STX_BTIME_SEC = 80;
  int STX_BTIME_NSEC = 88;

  int statx(int dirfd, String path, int flags, int mask, com.sun.jna.Memory buf) throws LastErrorException;
}
