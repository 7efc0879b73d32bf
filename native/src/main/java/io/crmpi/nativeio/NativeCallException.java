package io.crmpi.nativeio;

/**
 * A native call failed. The message names the call, its argument and the
 * errno text, so that it can be shown to a person as it is.
 */
public final class NativeCallException extends RuntimeException {
  private final int errno;

  public NativeCallException(String call, int errno, String detail) {
    super(call + ": " + detail + " (errno " + errno + ")");
    this.errno = errno;
  }

  /** The positive errno value, or 0 when the failure carried none. */
  public int errno() {
    return errno;
  }
}
