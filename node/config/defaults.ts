/**
 * The settings a node runs with when nothing else is said: plain data, so `peerpacs start --help`
 * can show them without loading the config parser (and its multiaddr dependency).
 */
export const DEFAULTS = {
  dicom: '127.0.0.1:11112',
  p2p: '/ip4/0.0.0.0/tcp/4001',
  http: '127.0.0.1:8080',
  aeTitle: 'PEERPACS',
  maxPduLength: 256 * 1024,
  idleTimeout: 120,
  artimTimeout: 30,
  maxConnectionsPerAddress: 32,
  maxStowBytes: 4 * 1024 ** 3,
  httpHeadersTimeout: 20,
  httpRequestTimeout: 3600,
  httpIdleTimeout: 60,
  httpKeepAliveTimeout: 5,
  httpMaxConnectionsPerAddress: 64,
  httpTls: 'auto',
  logLevel: 'info'
} as const
