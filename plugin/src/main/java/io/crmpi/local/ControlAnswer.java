package io.crmpi.local;

import java.util.Objects;

/** A running job's answer to a {@link ControlCommand}: one line for the person who asked. */
public sealed interface ControlAnswer {
  String message();

  /** Done; the message says what was done. */
  record Ok(String message) implements ControlAnswer {
    public Ok {
      Objects.requireNonNull(message, "message");
    }
  }

  /** Not done; the message says why. */
  record Refused(String message) implements ControlAnswer {
    public Refused {
      Objects.requireNonNull(message, "message");
    }
  }
}
