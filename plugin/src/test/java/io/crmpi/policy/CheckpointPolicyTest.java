package io.crmpi.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crmpi.policy.CheckpointPolicy.Auto;
import io.crmpi.policy.CheckpointPolicy.Cron;
import io.crmpi.policy.CheckpointPolicy.Interval;
import io.crmpi.policy.CheckpointPolicy.None;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class CheckpointPolicyTest {
  private static IllegalArgumentException rejects(String spec) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CheckpointPolicy.parse(spec));
    assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
    assertTrue(e.getMessage().endsWith("; accepted: " + CheckpointPolicy.FORMS), e.getMessage());
    return e;
  }

  @Test
  void noneAndOffMeanNoPeriodicCheckpoints() {
    assertEquals(new None(), CheckpointPolicy.parse("none"));
    assertEquals(new None(), CheckpointPolicy.parse(" OFF "));
  }

  @Test
  void durationsMeanAFixedInterval() {
    assertEquals(new Interval(Duration.ofSeconds(90)), CheckpointPolicy.parse("90s"));
    assertEquals(new Interval(Duration.ofMinutes(5)), CheckpointPolicy.parse("5m"));
    assertEquals(new Interval(Duration.ofHours(2)), CheckpointPolicy.parse("2h"));
    assertEquals(new Interval(Duration.ofMinutes(90)), CheckpointPolicy.parse("1h30m"));
    assertEquals(new Interval(Duration.ofSeconds(45)), CheckpointPolicy.parse("45"));
    assertEquals(new Interval(Duration.ofSeconds(1)), CheckpointPolicy.parse("1s"));
  }

  @Test
  void intervalsShorterThanOneSecondAreRejected() {
    IllegalArgumentException e = rejects("500ms");
    assertTrue(e.getMessage().startsWith("bad checkpoint policy '500ms': interval 500ms is shorter than 1s"),
        e.getMessage());
    rejects("0s");
    assertThrows(IllegalArgumentException.class, () -> new Interval(Duration.ofMillis(999)));
  }

  @Test
  void cronTakesAQuartzExpression() {
    assertEquals(new Cron("0 0/30 * * * ?"), CheckpointPolicy.parse("cron:0 0/30 * * * ?"));
    assertEquals(new Cron("0 0 3 * * ?"), CheckpointPolicy.parse("CRON: 0 0 3 * * ? "));
  }

  @Test
  void badCronNamesTheExpressionAndShowsAnExample() {
    IllegalArgumentException e = rejects("cron:0 0/30 * *");
    assertTrue(e.getMessage().startsWith("bad checkpoint policy 'cron:0 0/30 * *': '0 0/30 * *' is not a Quartz"
        + " cron expression"), e.getMessage());
    assertTrue(e.getMessage().contains("like \"0 0/30 * * * ?\""), e.getMessage());
    IllegalArgumentException direct = assertThrows(IllegalArgumentException.class, () -> new Cron("every hour"));
    assertTrue(direct.getMessage().startsWith("'every hour' is not a Quartz cron expression"), direct.getMessage());
    assertTrue(direct.getMessage().contains("\"0 0/30 * * * ?\""), direct.getMessage());
    rejects("cron:");
  }

  @Test
  void autoDefaultsToAMtbfOfOneDay() {
    assertEquals(new Auto(Duration.ofHours(24), Duration.ofMinutes(1), Duration.ofHours(24)),
        CheckpointPolicy.parse("auto"));
  }

  @Test
  void autoTakesMtbfMinAndMax() {
    assertEquals(new Auto(Duration.ofHours(6), Duration.ofMinutes(1), Duration.ofHours(6)),
        CheckpointPolicy.parse("auto:mtbf=6h"));
    assertEquals(new Auto(Duration.ofHours(6), Duration.ofSeconds(30), Duration.ofHours(2)),
        CheckpointPolicy.parse("auto:mtbf=6h,min=30s,max=2h"));
    assertEquals(new Auto(Duration.ofHours(24), Duration.ofSeconds(30), Duration.ofHours(24)),
        CheckpointPolicy.parse("AUTO:min=30s"));
  }

  @Test
  void badAutoOptionsAreNamed() {
    assertTrue(rejects("auto:mtbf").getMessage().contains("auto option 'mtbf' is not mtbf=, min= or max="));
    assertTrue(rejects("auto:every=5m").getMessage().contains("auto option 'every=5m' is not"));
    assertTrue(rejects("auto:mtbf=6h,mtbf=7h").getMessage().contains("auto option mtbf is given twice"));
    assertTrue(rejects("auto:mtbf=soon").getMessage().contains("auto mtbf: not a duration: 'soon'"));
    assertTrue(rejects("auto:mtbf=6h,min=2h,max=1h").getMessage().contains("max 1h is shorter than min 2h"));
    assertTrue(rejects("auto:mtbf=500ms").getMessage().contains("mtbf 500ms is shorter than 1s"));
    rejects("auto:");
  }

  @Test
  void garbageIsRejectedWithTheAcceptedForms() {
    assertEquals("bad checkpoint policy 'weekly': neither a policy name nor a duration; accepted: none, off,"
        + " an interval like 90s, 5m, 2h or 1h30m (at least 1s), cron:<Quartz cron expression> like"
        + " cron:0 0/30 * * * ?, auto or auto:mtbf=6h[,min=30s,max=6h]", rejects("weekly").getMessage());
    assertTrue(rejects("5x").getMessage().contains(": not a duration: '5x';"));
    assertTrue(rejects("-5m").getMessage().contains(": negative duration: -5m;"));
    assertTrue(rejects("").getMessage().startsWith("empty checkpoint policy"));
    rejects(null);
  }

  @Test
  void parseDurationReadsCommandLineDurations() {
    assertEquals(Duration.ofSeconds(10), CheckpointPolicy.parseDuration("10s"));
    assertEquals(Duration.ofMinutes(5), CheckpointPolicy.parseDuration("5m"));
    assertEquals(Duration.ofHours(2), CheckpointPolicy.parseDuration("2h"));
    assertEquals(Duration.ofMinutes(90), CheckpointPolicy.parseDuration("1h30m"));
    assertEquals(Duration.ofSeconds(45), CheckpointPolicy.parseDuration("45"));
    assertEquals(Duration.ofDays(7), CheckpointPolicy.parseDuration("7d"));
    assertEquals(Duration.ofMillis(1500), CheckpointPolicy.parseDuration("1s500ms"));
    assertEquals(Duration.ZERO, CheckpointPolicy.parseDuration("0"));
  }

  @Test
  void parseDurationRejectsNegativesAndGarbageClearly() {
    assertEquals("negative duration: -10s",
        assertThrows(IllegalArgumentException.class, () -> CheckpointPolicy.parseDuration("-10s")).getMessage());
    assertEquals("not a duration: 'ten'; expected a whole number with units d, h, m, s or ms, like 90s, 5m, 2h"
        + " or 1h30m, or plain seconds like 45",
        assertThrows(IllegalArgumentException.class, () -> CheckpointPolicy.parseDuration("ten")).getMessage());
    for (String bad : new String[] {"1.5h", "5 m", "m5", "30m1h", "5m5m", "", "  ", "1h30", "99999999999999999999s"}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> CheckpointPolicy.parseDuration(bad), bad);
      assertTrue(e.getMessage().contains("duration"), e.getMessage());
    }
    assertThrows(IllegalArgumentException.class, () -> CheckpointPolicy.parseDuration(null));
  }

  @Test
  void formattedDurationsReadBack() {
    for (Duration d : new Duration[] {Duration.ofSeconds(5), Duration.ofSeconds(133), Duration.ofMinutes(90),
        Duration.ofHours(24), Duration.ofMillis(1500), Duration.ofMillis(500), Duration.ZERO}) {
      assertEquals(d, CheckpointPolicy.parseDuration(Durations.format(d)), Durations.format(d));
    }
    assertEquals("2m13s", Durations.format(Duration.ofSeconds(133)));
    assertEquals("24h", Durations.format(Duration.ofHours(24)));
    assertEquals("1h30m", Durations.format(Duration.ofMinutes(90)));
  }
}
