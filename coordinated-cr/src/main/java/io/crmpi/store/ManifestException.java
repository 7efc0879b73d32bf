package io.crmpi.store;

import java.io.IOException;

/**
 * A manifest could not be decoded: it is not JSON, a field is missing or has
 * a bad value, or its format version is one this crmpi does not know. The
 * message is one line naming the manifest and what is wrong, fit to be shown
 * to a person as it is. It is an {@link IOException} because it is found
 * while reading a file, like any other unreadable file.
 */
public final class ManifestException extends IOException {
  private final String source;

  public ManifestException(String source, String problem) {
    super("manifest " + source + " is malformed: " + problem);
    this.source = source;
  }

  /** Thrown when the manifest is well formed but of an unknown format version. */
  ManifestException(String source, int formatVersion) {
    super("manifest " + source + " has formatVersion " + formatVersion
        + ", this crmpi reads 1.." + Manifest.FORMAT_VERSION);
    this.source = source;
  }

  /** The file (or other source) the manifest was read from. */
  public String source() {
    return source;
  }
}
