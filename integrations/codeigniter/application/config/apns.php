<?php
defined('BASEPATH') OR exit('No direct script access allowed');
/*
| -------------------------------------------------------------------------
| APNs (the apns PHP extension), read by application/libraries/Apns_push.php
| -------------------------------------------------------------------------
| The option names are those of the ssl stream context the old code set with
| stream_context_set_option(): local_cert, passphrase, cafile.
|
| Each value can be overridden by an environment variable (APNS_GATEWAY …), so the
| same file serves production, staging and the local sandbox.
*/
$config['gateway'] = getenv('APNS_GATEWAY') ?: 'ssl://gateway.push.apple.com:2195'; // ApnsConnection::GATEWAY_PRODUCTION
$config['feedback'] = getenv('APNS_FEEDBACK') ?: 'ssl://feedback.push.apple.com:2196';
$config['local_cert'] = getenv('APNS_CERT') ?: APPPATH . 'config/product_ck.pem';    // certificate + key
$config['passphrase'] = getenv('APNS_PASSPHRASE') ?: null;                          // better in the environment than here
$config['cafile'] = getenv('APNS_CAFILE') ?: null;                                  // only for a private gateway (the sandbox)
$config['timeout'] = 10;                                                            // seconds, for every blocking step
// Keep the connection open in the PHP-FPM worker between requests (Apple asks providers
// not to reconnect for every push). true, or an id string to keep several apart.
$config['persistent'] = true;
// Notifications not delivered within a day are dropped by Apple (0: do not store).
$config['expiry_seconds'] = 86400;
