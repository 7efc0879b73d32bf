package io.crmpi.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class NewestEpochWorkerTest {
  private final List<String> done = new CopyOnWriteArrayList<>();

  @Test
  void anEpochANewerOneOvertookWhileItWaitedIsSkipped() throws Exception {
    CountDownLatch busy = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    try (NewestEpochWorker w = new NewestEpochWorker("test-worker")) {
      w.request(1, () -> {
        busy.countDown();
        await(release);
        done.add("ran 1");
      }, () -> done.add("skipped 1"));
      assertTrue(busy.await(10, TimeUnit.SECONDS));
      w.request(2, () -> done.add("ran 2"), () -> done.add("skipped 2"));
      w.request(3, () -> done.add("ran 3"), () -> done.add("skipped 3"));
      release.countDown();
      assertEquals("now", w.runNow(3, () -> "now"));
      assertEquals(List.of("ran 1", "skipped 2", "ran 3"), done);
    }
  }

  @Test
  void workAskedForNowIsNeverSkippedAndOvertakesOlderRequests() throws Exception {
    CountDownLatch busy = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    try (NewestEpochWorker w = new NewestEpochWorker("test-worker")) {
      w.request(4, () -> {
        busy.countDown();
        await(release);
      }, () -> { });
      assertTrue(busy.await(10, TimeUnit.SECONDS));
      w.request(5, () -> done.add("ran 5"), () -> done.add("skipped 5"));
      Thread releaser = new Thread(() -> {
        sleep(100);
        release.countDown();
      });
      releaser.start();
      assertEquals(6L, w.runNow(6, () -> 6L));
      releaser.join();
      w.runNow(6, () -> null); // the queue is drained
      assertEquals(List.of("skipped 5"), done);
    }
  }

  @Test
  void nothingRunsOnceClosed() {
    NewestEpochWorker w = new NewestEpochWorker("test-worker");
    w.close();
    assertTrue(w.closed());
    assertThrows(RejectedExecutionException.class, () -> w.request(1, () -> done.add("ran"), () -> done.add("skip")));
    assertThrows(RejectedExecutionException.class, () -> w.runNow(1, () -> "x"));
    assertEquals(List.of(), done);
  }

  private static void await(CountDownLatch l) {
    try {
      l.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
