package io.crmpi.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class YoungDalyTest {
  private static final Duration DAY = Duration.ofHours(24);

  private static double seconds(Duration d) {
    return d.toNanos() / 1e9;
  }

  @Test
  void youngIsSquareRootOfTwiceCostTimesMtbf() {
    // sqrt(2 * 60 * 86400) = sqrt(10368000) = 3219.94 s
    assertEquals(3219.94, seconds(YoungDaly.young(Duration.ofSeconds(60), DAY)), 0.01);
  }

  @Test
  void dalyAddsHigherOrderTermsAndSubtractsTheCost() {
    // 3219.94 * (1 + sqrt(60/172800)/3 + (60/172800)/9) - 60 = 3219.94 * 1.006250 - 60 = 3180.06 s
    assertEquals(3180.06, seconds(YoungDaly.interval(Duration.ofSeconds(60), DAY)), 0.01);
    // sqrt(2000) * (1 + sqrt(0.05)/3 + 0.05/9) - 10 = 44.7214 * 1.080092 - 10 = 38.30 s
    assertEquals(38.30, seconds(YoungDaly.interval(Duration.ofSeconds(10), Duration.ofSeconds(100))), 0.01);
  }

  @Test
  void costOfTwiceTheMtbfOrMoreGivesTheMtbf() {
    assertEquals(DAY, YoungDaly.interval(Duration.ofHours(48), DAY));
    assertEquals(DAY, YoungDaly.interval(Duration.ofHours(100), DAY));
  }

  @Test
  void freeCheckpointsGiveZeroInterval() {
    assertEquals(Duration.ZERO, YoungDaly.interval(Duration.ZERO, DAY));
    assertEquals(Duration.ZERO, YoungDaly.young(Duration.ZERO, DAY));
  }

  @Test
  void rejectsNegativeCostAndNonPositiveMtbf() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> YoungDaly.interval(Duration.ofSeconds(-1), DAY));
    assertEquals("cost < 0: PT-1S", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> YoungDaly.interval(Duration.ofSeconds(1), Duration.ZERO));
    assertThrows(IllegalArgumentException.class, () -> YoungDaly.young(Duration.ofSeconds(1), Duration.ofSeconds(-5)));
  }

  @Test
  void clampKeepsValuesWithinBounds() {
    Duration min = Duration.ofSeconds(30);
    Duration max = Duration.ofHours(6);
    assertEquals(min, YoungDaly.clamp(Duration.ofSeconds(5), min, max));
    assertEquals(max, YoungDaly.clamp(Duration.ofHours(7), min, max));
    assertEquals(Duration.ofMinutes(5), YoungDaly.clamp(Duration.ofMinutes(5), min, max));
    assertThrows(IllegalArgumentException.class, () -> YoungDaly.clamp(Duration.ofMinutes(5), max, min));
  }

  @Test
  void autoRoundsToSecondsAndClamps() {
    CheckpointPolicy.Auto auto = new CheckpointPolicy.Auto(DAY, Duration.ofMinutes(1), Duration.ofHours(1));
    assertEquals(Duration.ofSeconds(3180), auto.intervalFor(Duration.ofSeconds(60)));
    // 1 s of cost: 415.03 s; Young/Daly assumes it before anything is measured.
    assertEquals(Duration.ofSeconds(415), auto.initialInterval());
    assertEquals(Duration.ofMinutes(1), auto.intervalFor(Duration.ofMillis(1)));
    assertEquals(Duration.ofHours(1), auto.intervalFor(Duration.ofMinutes(10)));
  }
}
