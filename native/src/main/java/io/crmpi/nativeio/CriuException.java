package io.crmpi.nativeio;

import java.nio.file.Path;

/** A CRIU operation failed; the message carries CRIU's own error lines. */
public final class CriuException extends RuntimeException {
  private final Path log;

  public CriuException(String message, Path log) {
    super(message);
    this.log = log;
  }

  /** CRIU's log for the failed operation, or null. */
  public Path log() {
    return log;
  }
}
