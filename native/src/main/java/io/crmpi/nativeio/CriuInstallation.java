package io.crmpi.nativeio;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * Where the CRIU binary and libcriu live. crmpi's setup script installs CRIU
 * either as the system's criu (when it is new enough and {@code criu check}
 * passes) or into a private prefix run through its own dynamic loader; the
 * launcher passes the result as {@code -Dcrmpi.criu} and
 * {@code -Dcrmpi.libcriu} (or the environment variables
 * {@code CRMPI_CRIU} and {@code CRMPI_LIBCRIU}).
 *
 * @param binary the criu executable (or a wrapper that execs it)
 * @param library libcriu.so.2; libprotobuf-c.so.1 in the same directory is
 *     loaded first when it is there
 */
public record CriuInstallation(Path binary, Path library) {
  public CriuInstallation {
    Objects.requireNonNull(binary, "binary");
    Objects.requireNonNull(library, "library");
  }

  /** Finds the installation from system properties or the environment. */
  public static CriuInstallation locate() {
    Path binary = setting("crmpi.criu", "CRMPI_CRIU")
        .orElseThrow(() -> new IllegalStateException(
            "CRIU is not configured: run scripts/setup.sh (or set CRMPI_CRIU to a criu >= 4.2 binary)"));
    Path library = setting("crmpi.libcriu", "CRMPI_LIBCRIU")
        .orElseThrow(() -> new IllegalStateException(
            "libcriu is not configured: run scripts/setup.sh (or set CRMPI_LIBCRIU to libcriu.so.2)"));
    if (!Files.isExecutable(binary)) {
      throw new IllegalStateException("CRIU binary " + binary + " is not executable: run scripts/setup.sh");
    }
    if (!Files.isReadable(library)) {
      throw new IllegalStateException("libcriu " + library + " is not readable: run scripts/setup.sh");
    }
    return new CriuInstallation(binary, library);
  }

  private static Optional<Path> setting(String property, String env) {
    String value = System.getProperty(property);
    if (value == null || value.isBlank()) {
      value = System.getenv(env);
    }
    return value == null || value.isBlank() ? Optional.empty() : Optional.of(Path.of(value));
  }
}
