<?php
defined('BASEPATH') OR exit('No direct script access allowed');

/**
 * Sends a test notification to every device token of the devicetoken collection,
 * and reports the tokens Apple rejected. One for one with the old controller: the
 * same model, the same collection, the same payload and expiry; the APNs work is in
 * application/libraries/Apns_push.php.
 */
class Push extends CI_Controller
{
    /** The database handle of the init_mongo model. */
    public $mongo;

    public function __construct()
    {
        parent::__construct();
        $this->load->model('init_mongo');
        $this->mongo = $this->init_mongo->get_resouce('mongodb_default'); // connect to the database
        $this->load->library('apns_push');
    }

    public function send()
    {
        $body['aps'] = array(
            'alert' => 'apns test~',
            'sound' => 'default',
            'badge' => 1,
        );

        // Every token of the collection, streamed: a generator, not an array of them all.
        $tokens = (function () {
            foreach ($this->mongo->devicetoken->find() as $v) {
                yield (string) $v['_id'];
            }
        })();

        try {
            $result = $this->apns_push->send_to_all($tokens, $body, array('expiry' => time() + 86400));
        } catch (ApnsException $e) {
            log_message('error', 'APNs: ' . $e->getMessage());
            echo 'Push failed: ' . htmlspecialchars($e->getMessage()) . '<br/>';
            return;
        }

        echo 'Sent ' . $result['sent'] . ' notifications in ' . round($result['seconds'], 2) . ' s<br/>';
        foreach ($result['failed'] as $failure) {
            // Invalid token (8): the app was uninstalled or the token belongs to the other environment.
            log_message('info', 'APNs rejected ' . Apns_push::describe($failure));
            echo 'Failed: ' . htmlspecialchars(Apns_push::describe($failure)) . '<br/>';
        }
        // With 'persistent', the connection (and its counters) outlives the request.
        $stats = $this->apns_push->stats();
        echo 'Connection: ' . $stats['sent'] . ' sent since it was opened'
            . ($stats['persistent'] ? ' (persistent)' : '') . '<br/>';
        echo 'Completed';
    }
}
