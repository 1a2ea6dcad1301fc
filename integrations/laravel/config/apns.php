<?php
/**
 * APNs settings of the apns Laravel channel (publish with
 * `php artisan vendor:publish --tag=apns-config`). Every value comes from the
 * environment; a null or empty value means "not set".
 *
 * Token auth (what Apple recommends): APNS_AUTH_KEY (the .p8 file), APNS_KEY_ID,
 * APNS_TEAM_ID, APNS_TOPIC (the app's bundle id). Certificate auth: APNS_CERT
 * (PEM or .p12) and APNS_PASSPHRASE. APNS_CAFILE adds trust anchors (the local
 * sandbox gateway's CA in tests).
 */

return [
    // https://api.push.apple.com (production), https://api.sandbox.push.apple.com
    // (development builds), or a binary gateway such as ssl://host:2195.
    'url' => env('APNS_URL', 'https://api.push.apple.com'),

    'auth_key' => env('APNS_AUTH_KEY'),
    'key_id' => env('APNS_KEY_ID'),
    'team_id' => env('APNS_TEAM_ID'),
    'topic' => env('APNS_TOPIC'),

    'local_cert' => env('APNS_CERT'),
    'passphrase' => env('APNS_PASSPHRASE'),
    'cafile' => env('APNS_CAFILE'),

    // Seconds any one network step may take (connect, write, wait for answers).
    'timeout' => env('APNS_TIMEOUT', 10),

    // Keep the connection open across requests of a PHP-FPM worker, jobs of a
    // queue worker and requests of an Octane worker (one per process).
    'persistent' => env('APNS_PERSISTENT', true),
];
