package io.crmpi.remote;

import io.crmpi.wire.BadMessage;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;

/**
 * A node's listener for partner copies (storage level L2): the other nodes
 * of the job put their part of an epoch here ({@link PartnerLink#put}), and
 * fetch it back when they restart ({@link PartnerLink#get}). Every
 * connection must prove it knows the job key ({@link SecureChannel}'s
 * partner handshake) before anything it says is read, and makes one
 * request; {@link PartnerCopies} keeps the copies. A few connections are
 * served at once; more are refused, as are connections that stall.
 */
public final class PartnerPort implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(PartnerPort.class.getName());
  private static final int MAX_CONNECTIONS = 8;
  private static final int HANDSHAKE_TIMEOUT_MS = 10_000;
  private static final int READ_TIMEOUT_MS = 60_000;
  private final ServerSocket server;
  private final String jobKey;
  private final String job;
  private final PartnerCopies copies;
  private final ThreadPoolExecutor pool;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final Thread acceptor;

  private PartnerPort(ServerSocket server, String jobKey, Path localJobDir, String job) {
    this.server = server;
    this.jobKey = jobKey;
    this.job = job;
    this.copies = new PartnerCopies(localJobDir);
    AtomicInteger n = new AtomicInteger();
    this.pool = new ThreadPoolExecutor(0, MAX_CONNECTIONS, 30, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
      Thread t = new Thread(r, "crmpi-partner-" + job + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    this.acceptor = new Thread(this::acceptAll, "crmpi-partner-" + job + "-accept");
    acceptor.setDaemon(true);
  }

  /**
   * Listens on address (port 0: chosen by the system) for partner copies of
   * job; holds them under localJobDir as {@link
   * io.crmpi.store.NodeLocalLevel} lays them out. jobKey: the job's secret
   * (at least 32 characters), the same every agent of the job has.
   */
  public static PartnerPort listen(InetAddress address, String jobKey, Path localJobDir, String job)
      throws IOException {
    if (jobKey == null || jobKey.length() < 32) {
      throw new IOException("the job key is missing or shorter than 32 characters: cannot hold partner copies");
    }
    ServerSocket s = new ServerSocket();
    try {
      s.bind(new InetSocketAddress(address, 0), 64);
    } catch (IOException e) {
      s.close();
      throw new IOException("cannot listen for partner copies on " + address.getHostAddress() + ": "
          + e.getMessage(), e);
    }
    PartnerPort port = new PartnerPort(s, jobKey, localJobDir, job);
    port.acceptor.start();
    return port;
  }

  /** "host:port" for peers to connect to. */
  public String endpoint() {
    InetAddress a = server.getInetAddress();
    String host = a instanceof Inet6Address ? "[" + a.getHostAddress() + "]" : a.getHostAddress();
    return host + ":" + server.getLocalPort();
  }

  private void acceptAll() {
    while (!server.isClosed()) {
      Socket s;
      try {
        s = server.accept();
      } catch (IOException e) {
        if (!server.isClosed()) {
          LOG.warning("job " + job + ": accepting a partner connection failed: " + e.getMessage());
          pause();
        }
        continue;
      }
      open.add(s);
      try {
        pool.execute(() -> serve(s));
      } catch (RejectedExecutionException e) {
        refuse(s, "already " + MAX_CONNECTIONS + " partner connections at once (or the port is closing)");
        closeQuietly(s);
      }
    }
  }

  /** One connection: the handshake, one request, its answer. */
  private void serve(Socket s) {
    try (s) {
      s.setSoTimeout(HANDSHAKE_TIMEOUT_MS);
      s.setTcpNoDelay(true);
      SecureChannel<PartnerMessage, PartnerMessage> channel;
      try {
        channel = SecureChannel.partnerServer(s.getInputStream(), s.getOutputStream(), jobKey);
      } catch (IOException | IllegalArgumentException e) {
        refuse(s, e.getMessage());
        return;
      }
      s.setSoTimeout(READ_TIMEOUT_MS);
      try {
        answer(s, channel);
      } catch (IOException | BadMessage | IllegalArgumentException e) {
        refuse(s, "from " + channel.host() + ": " + e.getMessage());
        try {
          channel.send(new PartnerMessage.Refused(e.getMessage() == null ? e.toString() : trim(e.getMessage())));
          s.shutdownOutput();
        } catch (IOException | RuntimeException unsent) {
          LOG.fine("the refusal did not reach " + s.getRemoteSocketAddress() + ": " + unsent.getMessage());
        }
      }
    } catch (IOException e) {
      LOG.fine("job " + job + ": partner connection from " + s.getRemoteSocketAddress() + ": " + e.getMessage());
    } finally {
      open.remove(s);
    }
  }

  private void answer(Socket s, SecureChannel<PartnerMessage, PartnerMessage> channel) throws IOException {
    PartnerMessage request = channel.receive();
    if (request instanceof PartnerMessage.Put put) {
      long bytes = copies.put(channel, put);
      LOG.fine("job " + job + ": holding node " + put.node() + "'s part of epoch " + put.epoch() + " (" + bytes
          + " bytes) from " + s.getRemoteSocketAddress());
    } else if (request instanceof PartnerMessage.Get get) {
      copies.get(channel, get);
    } else if (request != null) {
      throw new IOException("expected Put or Get, got " + request.getClass().getSimpleName());
    }
  }

  private void refuse(Socket s, String why) {
    LOG.warning("job " + job + ": refused a partner connection from " + s.getRemoteSocketAddress() + ": " + why);
  }

  private static String trim(String why) {
    return why.length() <= 2000 ? why : why.substring(0, 1997) + "...";
  }

  private static void pause() {
    try {
      Thread.sleep(100);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      LOG.fine("closing " + s + ": " + e.getMessage());
    }
  }

  /** Stops accepting and closes the open connections (their partial copies are deleted); never throws. */
  @Override
  public void close() {
    try {
      server.close();
    } catch (IOException e) {
      LOG.fine("closing the partner port of job " + job + ": " + e.getMessage());
    }
    pool.shutdownNow();
    open.forEach(PartnerPort::closeQuietly);
  }
}
