package io.crmpi.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** crmpid's progress reports: throttled on the test's clock, and skipped by the client on its way to the answer. */
class ProgressReportsTest {
  private long now;

  @Test
  void atMostOneReportEveryHalfSecondThenTheClientGetsTheAnswer() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ProgressReports reports = new ProgressReports(out, () -> now);
    reports.at(10, 100); // the first at once
    now = 400_000_000L;
    reports.at(20, 100); // too soon
    now = 500_000_000L;
    reports.at(30, 100);
    DaemonWire.write(out, new DaemonReply.Dumped(java.util.Map.of("engine", "criu")));

    List<long[]> heard = new ArrayList<>();
    DaemonReply answer = DaemonClient.answer(new ByteArrayInputStream(out.toByteArray()),
        new DaemonRequest.Dump(new TreeId("ring", "n1"), java.nio.file.Path.of("/x"), 1000),
        (bytes, total) -> heard.add(new long[] {bytes, total}));
    assertEquals(new DaemonReply.Dumped(java.util.Map.of("engine", "criu")), answer);
    assertEquals(2, heard.size());
    assertEquals(10, heard.get(0)[0]);
    assertEquals(30, heard.get(1)[0]);
    assertEquals(100, heard.get(1)[1]);
  }

  @Test
  void aRefusalAfterProgressIsStillAnError() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    new ProgressReports(out, () -> now).at(1, 2);
    DaemonWire.write(out, new DaemonReply.Refused("the dump failed: no space left on device"));
    IOException e = assertThrows(IOException.class, () -> DaemonClient.answer(
        new ByteArrayInputStream(out.toByteArray()), new DaemonRequest.Freeze(new TreeId("ring", "n1")),
        (b, t) -> {}));
    assertTrue(e.getMessage().contains("no space left"), e.getMessage());
  }

  @Test
  void aClientThatLeftOnlyStopsTheReports() {
    int[] writes = {0};
    OutputStream broken = new OutputStream() {
      @Override
      public void write(int b) throws IOException {
        writes[0]++;
        throw new IOException("Broken pipe");
      }
    };
    ProgressReports reports = new ProgressReports(broken, () -> now);
    reports.at(1, 2);
    now = 10_000_000_000L;
    reports.at(2, 2); // no exception, no second attempt
    assertEquals(1, writes[0]);
  }

  @Test
  void negativeProgressIsNoMessage() {
    assertThrows(IllegalArgumentException.class, () -> new DaemonReply.Progress(-1, 0));
  }
}
