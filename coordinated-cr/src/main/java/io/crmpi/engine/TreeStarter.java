package io.crmpi.engine;

import java.io.IOException;
import java.util.List;

/**
 * What starts, extends and fences node trees for an engine that does not
 * dump processes (the app engine): crmpi-ns directly when the job is root's,
 * crmpid for an ordinary user's job.
 */
public interface TreeStarter {
  /** Starts spec's command in a new node tree. */
  NodeTree launch(LaunchSpec spec) throws IOException;

  /** Starts command as a process of the running tree. */
  void exec(NodeTree tree, LaunchSpec spec, List<String> command) throws IOException;

  /** Kills whatever an earlier copy of spec's tree left (see {@link Engine#fence}). */
  void fence(LaunchSpec spec) throws IOException;
}
