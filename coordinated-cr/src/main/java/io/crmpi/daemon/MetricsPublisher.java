package io.crmpi.daemon;

import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * Where crmpid's {@link NodeMetrics} go, as the admin configured it: a file
 * in node_exporter's textfile-collector directory, rewritten every 15 s and
 * at once after a dump, restore or job event; and, when asked, Prometheus'
 * own HTTP exporter on one address (GET /metrics), for sites that scrape
 * nodes directly. Either, both, or none.
 */
final class MetricsPublisher implements Closeable {
  private static final Logger LOG = Logger.getLogger(MetricsPublisher.class.getName());
  static final long EVERY_SECONDS = 15;

  private final NodeMetrics metrics;
  private final Path dir;
  private final InetSocketAddress listen;
  private final ScheduledExecutorService timer;
  private HTTPServer http;

  /**
   * @param dir the textfile-collector directory, or null for no file
   * @param listen the address to serve /metrics on, or null for no HTTP
   */
  MetricsPublisher(NodeMetrics metrics, Path dir, InetSocketAddress listen, ScheduledExecutorService timer) {
    this.metrics = metrics;
    this.dir = dir;
    this.listen = listen;
    this.timer = timer;
  }

  /** Starts the periodic file and the HTTP exporter; fails when the address cannot be bound. */
  void start() throws IOException {
    if (dir != null) {
      timer.scheduleAtFixedRate(this::write, 0, EVERY_SECONDS, TimeUnit.SECONDS);
      LOG.info("crmpid: metrics every " + EVERY_SECONDS + " s in " + dir.resolve(NodeMetrics.FILE));
    }
    if (listen != null) {
      // Few scrapes, one thread: a flood of requests cannot take more of the node than that.
      ExecutorService one = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "crmpid-metrics-http");
        t.setDaemon(true);
        return t;
      });
      try {
        http = HTTPServer.builder().inetAddress(listen.getAddress()).port(listen.getPort())
            .registry(metrics.registry()).executorService(one).buildAndStart();
      } catch (IOException e) {
        one.shutdownNow();
        throw new IOException("cannot serve metrics on " + address() + ": " + e.getMessage(), e);
      }
      LOG.info("crmpid: metrics on http://" + address() + "/metrics");
    }
  }

  /** A dump, restore or job event happened: the file shows it now, not only at the next tick. */
  void changed() {
    if (dir != null) {
      timer.execute(this::write);
    }
  }

  /** The port the exporter listens on (the configured one, or the one chosen for port 0), or -1. */
  int httpPort() {
    return http == null ? -1 : http.getPort();
  }

  private String address() {
    String host = listen.getAddress().getHostAddress();
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + listen.getPort();
  }

  private void write() {
    try {
      metrics.writeTo(dir);
    } catch (IOException | RuntimeException e) {
      LOG.warning("crmpid: cannot write metrics into " + dir + ": " + e.getMessage());
    }
  }

  @Override
  public void close() {
    if (http != null) {
      http.close();
    }
  }
}
