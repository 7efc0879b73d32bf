package io.crmpi.local;

/** A job cannot be run or found; the message is one line for a person, with the exit code to use. */
public final class JobException extends RuntimeException {
  private final int exitCode;

  public JobException(String message, int exitCode) {
    super(message);
    this.exitCode = exitCode;
  }

  public int exitCode() {
    return exitCode;
  }
}
