package io.crmpi.nativeio;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Platform;

/**
 * The calling thread's place in the CPU scheduler.
 *
 * <p>{@link #askForShortSlice} asks for a short slice (0.1 ms) under the
 * default policy: EEVDF (Linux 6.12 and later) lets a thread with a shorter
 * slice run as soon as it wakes, ahead of threads that compute. The agent's
 * threads that answer ranks during a quiesce sleep but for the microseconds
 * of an answer, and every round waits for the slowest answer: on a node with
 * more busy ranks than cores, each wake-up otherwise waits for a rank's
 * slice to end (1.4 ms here). Same policy, same nice value: no privilege is
 * needed and nothing gains a larger share of the CPU. Older kernels ignore
 * the slice or refuse the call; either way nothing changes and nothing fails.
 */
public final class Scheduling {
  private static final long SHORT_SLICE_NANOS = 100_000;
  private static final int SCHED_OTHER = 0;
  private static final int SCHED_BATCH = 3;
  /** struct sched_attr, version 1 (SCHED_ATTR_SIZE_VER1 is 56 with the utilization clamps; 48 without). */
  private static final int ATTR_SIZE = 48;

  private Scheduling() {}

  /** Asks for a short slice for the calling thread; false when the kernel or the platform cannot. */
  public static boolean askForShortSlice() {
    long getattr;
    long setattr;
    if (Platform.isIntel() && Platform.is64Bit()) {
      getattr = 315;
      setattr = 314;
    } else if (Platform.isARM() && Platform.is64Bit()) {
      getattr = 275;
      setattr = 274;
    } else {
      return false;
    }
    try (Memory attr = new Memory(ATTR_SIZE)) {
      attr.clear();
      LibC.INSTANCE.syscall(getattr, 0L, attr, (long) ATTR_SIZE, 0L); // longs: glibc reads every argument as a long
      int policy = attr.getInt(4);
      if (policy != SCHED_OTHER && policy != SCHED_BATCH) {
        return false;
      }
      attr.setInt(0, ATTR_SIZE);
      attr.setLong(8, 0); // sched_flags
      attr.setLong(24, SHORT_SLICE_NANOS); // sched_runtime: the slice, for the fair policies
      LibC.INSTANCE.syscall(setattr, 0L, attr, 0L);
      return true;
    } catch (LastErrorException | UnsatisfiedLinkError e) {
      return false;
    }
  }
}
