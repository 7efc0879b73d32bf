package io.crmpi.local;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.Mockito.RETURNS_DEEP_STUBS;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.verifyNoInteractions;
import static org.mockito.Mockito.when;

import io.crmpi.coordinator.AbortReason;
import io.crmpi.coordinator.CheckpointCoordinator;
import io.crmpi.coordinator.CheckpointOutcome;
import io.crmpi.store.Manifest;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.Test;

class JobControlTest {
  private final ReentrantLock lifecycle = new ReentrantLock();
  private final NodeSlots nodes = mock(NodeSlots.class);
  private final CheckpointCoordinator coordinator = mock(CheckpointCoordinator.class);

  private static CheckpointOutcome committed(long epoch) {
    Manifest m = mock(Manifest.class, RETURNS_DEEP_STUBS);
    when(m.epoch()).thenReturn(epoch);
    when(m.totalBytes()).thenReturn(4L << 20);
    when(m.timings().totalMillis()).thenReturn(1500L);
    when(m.timings().frozenMillis()).thenReturn(500L);
    when(m.timings().sealMillis()).thenReturn(null); // sealed at its persist: nothing to say of a seal
    return new CheckpointOutcome.Committed(m);
  }

  @Test
  void aCommittedVacateMarksTheJobAsVacatingAndSaysSo() {
    when(nodes.allRunning()).thenReturn(true);
    CheckpointOutcome outcome = committed(7);
    when(coordinator.checkpointAndVacate("vacate")).thenReturn(outcome);
    JobControl control = new JobControl("ring", lifecycle, nodes, coordinator, true);
    ControlAnswer a = control.handle(new ControlCommand.Vacate());
    assertInstanceOf(ControlAnswer.Ok.class, a);
    assertTrue(a.message().contains("job ring epoch 7 committed: 4.0 MiB in 1.50 s (frozen 0.50 s); the job is"
        + " vacated"), a.message());
    assertTrue(control.vacating());
    assertFalse(control.suspending());
    assertFalse(lifecycle.isLocked(), "the lifecycle lock was kept");
  }

  @Test
  void aVacateWhoseCheckpointAbortsLeavesTheJobRunningAndSaysWhy() {
    when(nodes.allRunning()).thenReturn(true);
    when(coordinator.checkpointAndVacate("vacate"))
        .thenReturn(new CheckpointOutcome.Aborted(3, AbortReason.DUMP_FAILED, "criu failed"));
    JobControl control = new JobControl("ring", lifecycle, nodes, coordinator, false);
    ControlAnswer a = control.handle(new ControlCommand.Vacate());
    assertInstanceOf(ControlAnswer.Refused.class, a);
    assertTrue(a.message().contains("job ring epoch 3 aborted: DUMP_FAILED"), a.message());
    assertFalse(control.vacating(), "a vacate that did not commit still ends the run");
  }

  @Test
  void aSlurmJobIsNeverSuspendedAndNothingIsCheckpointed() {
    JobControl control = new JobControl("ring", lifecycle, nodes, coordinator, true);
    ControlAnswer a = control.handle(new ControlCommand.Suspend());
    assertInstanceOf(ControlAnswer.Refused.class, a);
    assertTrue(a.message().contains("'crmpi vacate' checkpoints it and has Slurm requeue it"), a.message());
    verifyNoInteractions(coordinator);
    assertFalse(control.suspending());
  }

  @Test
  void aJobWithoutRunningTreesIsNotCheckpointed() {
    when(nodes.allRunning()).thenReturn(false);
    JobControl control = new JobControl("ring", lifecycle, nodes, coordinator, false);
    ControlAnswer a = control.handle(new ControlCommand.Checkpoint());
    assertInstanceOf(ControlAnswer.Refused.class, a);
    assertTrue(a.message().contains("has no running node tree right now"), a.message());
    verify(coordinator, never()).checkpoint("manual");
  }

  @Test
  void aPingIsAnsweredWhileARestoreHoldsTheJob() throws Exception {
    java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    Thread restore = new Thread(() -> {
      lifecycle.lock();
      held.countDown();
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        lifecycle.unlock();
      }
    });
    restore.start();
    held.await();
    try {
      ControlAnswer a = new JobControl("ring", lifecycle, nodes, coordinator, false).handle(new ControlCommand.Ping());
      assertInstanceOf(ControlAnswer.Ok.class, a);
      assertTrue(a.message().contains("job ring is running"), a.message());
    } finally {
      release.countDown();
      restore.join();
    }
  }

  @Test
  void theSchedulersVacateIsTriedAgainUntilItCommits() {
    when(nodes.allRunning()).thenReturn(true);
    CheckpointOutcome failed = new CheckpointOutcome.Aborted(1, AbortReason.DUMP_FAILED, "mpirun is starting");
    CheckpointOutcome ok = committed(2);
    when(coordinator.checkpointAndVacate("vacate")).thenReturn(failed, ok);
    java.util.List<java.time.Duration> slept = new java.util.ArrayList<>();
    JobControl control = new JobControl("ring", lifecycle, nodes, coordinator, true);
    ControlAnswer a = control.vacateOnSignal(() -> true, slept::add);
    assertInstanceOf(ControlAnswer.Ok.class, a);
    assertTrue(a.message().contains("epoch 2 committed"), a.message());
    org.junit.jupiter.api.Assertions.assertEquals(java.util.List.of(JobControl.SIGNAL_RETRY), slept);
    assertTrue(control.vacating());
  }

  @Test
  void theSchedulersVacateGivesUpAfterItsAttemptsOrWhenTheJobEnds() {
    when(nodes.allRunning()).thenReturn(true);
    when(coordinator.checkpointAndVacate("vacate"))
        .thenReturn(new CheckpointOutcome.Aborted(1, AbortReason.DUMP_FAILED, "criu failed"));
    java.util.List<java.time.Duration> slept = new java.util.ArrayList<>();
    JobControl control = new JobControl("ring", lifecycle, nodes, coordinator, true);
    ControlAnswer a = control.vacateOnSignal(() -> true, slept::add);
    assertInstanceOf(ControlAnswer.Refused.class, a);
    org.junit.jupiter.api.Assertions.assertEquals(JobControl.SIGNAL_ATTEMPTS - 1, slept.size());
    verify(coordinator, org.mockito.Mockito.times(JobControl.SIGNAL_ATTEMPTS)).checkpointAndVacate("vacate");

    boolean[] runs = {true};
    JobControl ending = new JobControl("ring", lifecycle, nodes, coordinator, true);
    ending.vacateOnSignal(() -> runs[0], d -> runs[0] = false); // the job ends while the vacate waits
    verify(coordinator, org.mockito.Mockito.times(JobControl.SIGNAL_ATTEMPTS + 1)).checkpointAndVacate("vacate");
    assertFalse(ending.vacating());
  }
}
