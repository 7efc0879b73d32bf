package io.crmpi.wire;

/**
 * A line that is not a valid message of the type its channel expects. Its
 * message says what was wrong, with any text from the peer abbreviated and
 * stripped of control characters, so it can go into a log as it is.
 */
public final class BadMessage extends RuntimeException {
  public BadMessage(String message) {
    super(message);
  }

  /** Peer text made fit for a log line: control characters replaced, at most 160 characters. */
  public static String quote(String s) {
    s = s.replaceAll("[\\p{Cntrl}]", "?");
    return s.length() <= 160 ? s : s.substring(0, 160) + "...";
  }
}
