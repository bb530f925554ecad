/** `peerpacs start`: runs the node (DIMSE and DICOMweb), initialising a fresh data dir first. */
import { DEFAULTS } from '../../config/defaults.ts'
import { lazyRun, type CommandSpec } from '../command.ts'

export const start: CommandSpec = {
  name: 'start',
  summary: 'Run the node: DIMSE (C-ECHO/STORE/FIND/MOVE/GET) and DICOMweb (STOW/QIDO/WADO).',
  args: '',
  minArgs: 0,
  maxArgs: 0,
  usesKeys: true,
  description: `
Runs until stopped with Ctrl-C or SIGTERM, which closes the listeners, lets in-flight
transfers finish and releases the data dir. A fresh (empty or missing) data dir is
initialised first, exactly as \`peerpacs init\` would: the recovery key is shown once.

While the node runs, other commands (import, studies, export, fsck, token) go through it;
a second \`start\` on the same data dir is refused.

Settings come from, in rising precedence: defaults, the config file, the environment, flags.
  --dicom HOST:PORT      $PEERPACS_DICOM      default ${DEFAULTS.dicom} (port 0: any free port)
  --ae-title AET         $PEERPACS_AE_TITLE   default ${DEFAULTS.aeTitle}
  --http HOST:PORT       $PEERPACS_HTTP       default ${DEFAULTS.http}
  --tls MODE             $PEERPACS_TLS        auto (default): HTTPS when --http is not a loopback
                                              address, plain HTTP on loopback; on; off (only behind
                                              a proxy that terminates TLS)
  --tls-cert FILE        $PEERPACS_TLS_CERT   PEM certificate (chain) to serve HTTPS with, and
  --tls-key FILE         $PEERPACS_TLS_KEY    its PEM private key; without them a self-signed
                                              certificate is made once and kept in the data dir
  --dicom-tls HOST:PORT  $PEERPACS_DICOM_TLS  a second DIMSE port speaking DICOM TLS (off by
                                              default; 2762 is its registered port); the plain
                                              --dicom port stays for modalities without TLS
  --dicom-tls-cert FILE  $PEERPACS_DICOM_TLS_CERT
  --dicom-tls-key FILE   $PEERPACS_DICOM_TLS_KEY
                                              PEM certificate and key for DICOM TLS; without
                                              them the node makes one (keys/dicom-tls-cert.pem)
  --dicom-tls-ca FILE    $PEERPACS_DICOM_TLS_CA
                                              PEM CA(s) trusted for callers' client certificates
                                              and TLS C-MOVE destinations
  --allow-ae LIST        $PEERPACS_ALLOW_AE   AET@HOST[:PORT],... may store, query and retrieve
                                              (PORT makes it a C-MOVE destination; HOST * = any)
  --accept-unknown-ae    $PEERPACS_ACCEPT_UNKNOWN_AE=1
                                              any calling AE is accepted (testing only: the
                                              allow-list is the access control)
  --cors ORIGINS         $PEERPACS_CORS       browser origins allowed to call DICOMweb (or *)
  --p2p MULTIADDRS       $PEERPACS_P2P        where the mesh listens, default ${DEFAULTS.p2p}
  --peer MULTIADDRS      $PEERPACS_PEERS      peers to dial, e.g. /ip4/10.0.0.5/tcp/4001/p2p/12D3KooW...
                                              (members' addresses are also learnt from the log and mDNS)
  --no-mdns              $PEERPACS_NO_MDNS=1  do not announce or discover peers on the LAN
  --log-level LEVEL      $PEERPACS_LOG_LEVEL  debug, info (default), warn, error
  --name NAME            $PEERPACS_ORG_NAME   the org's name, when a fresh data dir is initialised
  --data DIR             $PEERPACS_DATA       the data dir (default ./data)
  --passphrase-file FILE $PEERPACS_PASSPHRASE (the passphrase itself) seals the node's keys
  --config FILE          $PEERPACS_CONFIG     JSON config file:

  {
    "dicom": {
      "listen": "0.0.0.0:11112", "aeTitle": "PEERPACS", "acceptUnknown": false,
      "maxPduLength": ${DEFAULTS.maxPduLength}, "idleTimeout": ${DEFAULTS.idleTimeout},
      "artimTimeout": ${DEFAULTS.artimTimeout}, "maxConnectionsPerAddress": ${DEFAULTS.maxConnectionsPerAddress},
      "remotes": [
        { "aeTitle": "CT_ROOM1", "host": "10.0.0.21", "store": true, "query": false, "retrieve": false },
        { "aeTitle": "WORKSTATION", "host": "10.0.0.30", "port": 104 },
        { "aeTitle": "READING_TLS", "host": "10.0.0.31", "port": 2762, "tls": "required",
          "certFingerprint": "AB:CD:...(SHA-256)" }
      ],
      "tls": { "listen": "0.0.0.0:2762", "cert": "dicom-cert.pem", "key": "dicom-key.pem",
               "ca": "dicom-ca.pem", "requireClientCert": false }
    },
    "http": {
      "listen": "127.0.0.1:8080", "cors": ["https://viewer.example.org"], "maxStowBytes": ${DEFAULTS.maxStowBytes},
      "headersTimeout": ${DEFAULTS.httpHeadersTimeout}, "requestTimeout": ${DEFAULTS.httpRequestTimeout}, "idleTimeout": ${DEFAULTS.httpIdleTimeout},
      "keepAliveTimeout": ${DEFAULTS.httpKeepAliveTimeout}, "maxConnectionsPerAddress": ${DEFAULTS.httpMaxConnectionsPerAddress},
      "tls": { "mode": "${DEFAULTS.httpTls}", "cert": "/etc/peerpacs/fullchain.pem", "key": "/etc/peerpacs/privkey.pem" }
    },
    "mesh": { "listen": ["${DEFAULTS.p2p}"], "peers": [], "mdns": true },
    "logLevel": "info"
  }

DIMSE limits (seconds): idleTimeout cuts an association that receives no whole PDU while it
has nothing under way; artimTimeout (PS3.8 ARTIM) cuts a connection whose A-ASSOCIATE-RQ is not
complete in time, or whose peer does not close after a reject, release or abort;
maxConnectionsPerAddress more connections from one address are rejected (transient, local limit).

HTTP limits (seconds): a request's headers must arrive within headersTimeout and the whole
request within requestTimeout (0: none; a large STOW-RS takes minutes); a connection with no
byte either way for idleTimeout is closed (a slow body that keeps coming is fine); one address
holds at most maxConnectionsPerAddress connections (more get 503). One STOW-RS request takes at
most 10,000 parts; one WADO-RS frames request names at most 1000 frames, each once.

HTTPS: with TLS on, the HTTP port serves HTTPS (TLS 1.2 or 1.3, AEAD suites only) with HSTS, and
a plain http:// request to it is only redirected (308) to https://. The certificate's SHA-256
fingerprint is logged (http.listening), printed here and by \`peerpacs status\`. A renewed
certificate is picked up without a restart: the files are watched, and SIGHUP reads them again;
a pair that does not read or match is refused (logged) and the old one keeps serving. Files in
the config file are relative to it. The generated certificate (keys/tls-cert.pem) is for
localhost, this machine's names and addresses; trust it in a browser, or \`curl --cacert\` it.

DICOM TLS (PS3.15 Annex B, BCP 195 profile): --dicom-tls opens a second DIMSE port with the same
AE title, access rules and handling; TLS 1.2 or 1.3, AEAD suites only; a client certificate is
asked for, and required (chaining to dicom.tls.ca) with requireClientCert. A remote with "tls":
"required" is refused on the plain port, and a C-MOVE to it goes over TLS; "certFingerprint" pins
its certificate (as caller and as destination). Refusals are audited (110113).

Every DICOMweb route (/dicomweb, /wado) needs a bearer token: \`peerpacs token create --name NAME\`.
Logs are JSON lines on stderr, one per event, and never carry patient data.`,
  options: {
    config: { type: 'string', value: 'FILE', help: 'JSON config file (default: $PEERPACS_CONFIG)' },
    dicom: { type: 'string', value: 'HOST:PORT', help: `DIMSE listen address (default ${DEFAULTS.dicom})` },
    'ae-title': { type: 'string', value: 'AET', help: `this node's AE title (default ${DEFAULTS.aeTitle})` },
    http: { type: 'string', value: 'HOST:PORT', help: `HTTP listen address (default ${DEFAULTS.http})` },
    tls: { type: 'string', value: 'MODE', help: 'auto (HTTPS unless --http is loopback), on or off' },
    'tls-cert': { type: 'string', value: 'FILE', help: 'PEM certificate (chain) for HTTPS' },
    'tls-key': { type: 'string', value: 'FILE', help: 'PEM private key of --tls-cert' },
    'dicom-tls': { type: 'string', value: 'HOST:PORT', help: 'DICOM TLS listen address (off by default)' },
    'dicom-tls-cert': { type: 'string', value: 'FILE', help: 'PEM certificate (chain) for DICOM TLS' },
    'dicom-tls-key': { type: 'string', value: 'FILE', help: 'PEM private key of --dicom-tls-cert' },
    'dicom-tls-ca': { type: 'string', value: 'FILE', help: 'PEM CA certificate(s) trusted for DICOM TLS peers' },
    'allow-ae': { type: 'string', value: 'LIST', help: 'AET@HOST[:PORT],... allowed to store, query and retrieve' },
    'accept-unknown-ae': { type: 'boolean', help: 'accept associations from any AE (testing only)' },
    cors: { type: 'string', value: 'ORIGINS', help: 'comma-separated browser origins allowed (or *)' },
    p2p: { type: 'string', value: 'MULTIADDRS', help: `mesh listen addresses, comma-separated (default ${DEFAULTS.p2p})` },
    peer: { type: 'string', value: 'MULTIADDRS', help: 'peers to dial, comma-separated multiaddrs' },
    'no-mdns': { type: 'boolean', help: 'no mDNS announcement or discovery on the LAN' },
    'log-level': { type: 'string', value: 'LEVEL', help: 'debug, info, warn or error (default info)' },
    name: { type: 'string', value: 'NAME', help: 'the org\'s name, when a fresh data dir is initialised' }
  },
  run: lazyRun(async () => await import('../run/start.ts'))
}
