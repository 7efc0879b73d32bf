package io.crmpi.local;

import io.crmpi.daemon.DaemonClient;
import io.crmpi.daemon.DaemonEngine;
import io.crmpi.engine.AppEngine;
import io.crmpi.engine.CriuEngine;
import io.crmpi.engine.Engine;
import io.crmpi.nativeio.Criu;
import io.crmpi.nativeio.CriuInstallation;
import io.crmpi.nativeio.Posix;
import java.nio.file.Path;

/**
 * Which engine a job of this process's user gets. An ordinary user's job
 * asks this node's crmpid for everything privileged; root (the admin, and
 * a machine without crmpid) runs CRIU and crmpi-ns itself.
 */
public final class Engines {
  private Engines() {}

  public static Engine forThisUser(String engine, Path crmpiNs) {
    if (!Posix.isRoot()) {
      DaemonEngine daemon = new DaemonEngine(DaemonClient.fromEnvironment(System.getenv()));
      return engine.equals("app") ? new AppEngine(daemon) : daemon;
    }
    return engine.equals("app") ? new AppEngine(crmpiNs) : new CriuEngine(Criu.load(CriuInstallation.locate()), crmpiNs);
  }
}
