package io.crmpi.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class CoordinatorConfigTest {
  private static final Duration SECOND = Duration.ofSeconds(1);

  @Test
  void keepBelowOneIsRejectedWithTheValue() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new CoordinatorConfig("ring", "criu", 0, SECOND, SECOND, SECOND));
    assertEquals("keep < 1: 0", e.getMessage());
  }

  @Test
  void timeoutsMustBePositive() {
    IllegalArgumentException zero = assertThrows(IllegalArgumentException.class,
        () -> new CoordinatorConfig("ring", "criu", 1, Duration.ZERO, SECOND, SECOND));
    assertEquals("prepareTimeout is not positive: PT0S", zero.getMessage());
    IllegalArgumentException negative = assertThrows(IllegalArgumentException.class,
        () -> new CoordinatorConfig("ring", "criu", 1, SECOND, SECOND, Duration.ofMillis(-1)));
    assertEquals("persistTimeout is not positive: PT-0.001S", negative.getMessage());
  }

  @Test
  void missingFieldsAreNamed() {
    NullPointerException e = assertThrows(NullPointerException.class,
        () -> new CoordinatorConfig("ring", "criu", 1, SECOND, null, SECOND));
    assertEquals("dumpTimeout", e.getMessage());
  }
}
