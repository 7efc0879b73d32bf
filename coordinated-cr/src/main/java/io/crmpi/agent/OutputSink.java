package io.crmpi.agent;

/**
 * Where a node tree's output goes: each chunk is passed on as read, and the
 * stream it came from is named ("stdout" or "stderr"). Implementations must
 * be thread-safe: both streams are pumped at once.
 */
public interface OutputSink {
  void write(String stream, byte[] buf, int off, int len);
}
