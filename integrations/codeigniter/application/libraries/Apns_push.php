<?php
defined('BASEPATH') OR exit('No direct script access allowed');

/**
 * Apns_push: CodeIgniter library around the apns extension's ApnsConnection.
 *
 *   $this->load->library('apns_push');
 *   $result = $this->apns_push->send_to_all($tokens, array('aps' => array('alert' => 'Hi')));
 *   // array('sent' => 1000, 'failed' => array(array('token' => …, 'status' => 8, 'reason' => 'Invalid token', …)), …)
 *
 * Settings come from application/config/apns.php; an array passed as the second
 * argument of $this->load->library() overrides them. The connection opens on first
 * use and, with 'persistent', stays open in the PHP-FPM worker for the next request.
 * What the old controller did by hand (pack(), fwrite() retries, reconnecting every
 * 100 pushes, checkAppleErrorResponse()) the extension does: it resends whatever
 * Apple discarded and reports each rejected token once, after flushing.
 */
class Apns_push
{
    /** @var array */
    protected $config;
    /** @var ApnsConnection|null */
    protected $connection;

    public function __construct($params = array())
    {
        if (!extension_loaded('apns')) {
            show_error('Apns_push: the apns PHP extension is not loaded (extension=apns in php.ini)');
        }
        $CI =& get_instance();
        $CI->config->load('apns', TRUE);
        $this->config = array_merge((array) $CI->config->item('apns'), (array) $params);
    }

    /** The connection, opened on first use. Throws ApnsException when the gateway cannot be reached. */
    public function connection()
    {
        if ($this->connection === NULL) {
            $options = array_filter(array(
                'local_cert' => $this->config['local_cert'] ?? NULL,
                'local_pk' => $this->config['local_pk'] ?? NULL,
                'passphrase' => $this->config['passphrase'] ?? NULL,
                'cafile' => $this->config['cafile'] ?? NULL,
                'timeout' => $this->config['timeout'] ?? NULL,
                'persistent' => $this->config['persistent'] ?? NULL,
            ), function ($v) { return $v !== NULL && $v !== FALSE && $v !== ''; });
            $this->connection = new ApnsConnection($this->config['gateway'], $options);
        }
        return $this->connection;
    }

    /**
     * Sends one payload to every token of $tokens (an array, a generator, a database
     * cursor) and waits until each is settled. Returns sendMany()'s result:
     * array('sent' => int, 'failed' => list of array('identifier', 'token', 'status', 'reason'),
     *       'resent' => int, 'seconds' => float).
     */
    public function send_to_all($tokens, $payload, array $options = array())
    {
        if (!isset($options['expiry']) && !empty($this->config['expiry_seconds'])) {
            $options['expiry'] = time() + (int) $this->config['expiry_seconds'];
        }
        return $this->connection()->sendMany($tokens, $payload, $options);
    }

    /** Queues one notification; its failure, if any, comes from flush(). Returns its identifier. */
    public function send($token, $payload, array $options = array())
    {
        return $this->connection()->send($token, $payload, $options);
    }

    /** Waits until everything sent is settled; returns the failures. */
    public function flush()
    {
        return $this->connection === NULL ? array() : $this->connection->flush();
    }

    /** Tokens Apple's feedback service lists as uninstalled: list of array('timestamp', 'token'). */
    public function feedback()
    {
        return ApnsConnection::feedback($this->config['feedback'], array_filter(array(
            'local_cert' => $this->config['local_cert'] ?? NULL,
            'passphrase' => $this->config['passphrase'] ?? NULL,
            'cafile' => $this->config['cafile'] ?? NULL,
            'timeout' => $this->config['timeout'] ?? NULL,
        ), function ($v) { return $v !== NULL && $v !== ''; }));
    }

    /** The connection's counters (sent, failed, pending, persistent...): ApnsConnection::stats(). */
    public function stats()
    {
        return $this->connection()->stats();
    }

    /** Human text for a failure, for logs and pages. */
    public static function describe(array $failure)
    {
        return sprintf('%s: %d-%s', $failure['token'], $failure['status'], $failure['reason']);
    }
}
