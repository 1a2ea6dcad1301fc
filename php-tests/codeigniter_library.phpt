--TEST--
CodeIgniter: the Apns_push library and the Push controller (examples/codeigniter) under minimal CI 3 stubs send to every token of a collection and report the invalid ones
--SKIPIF--
<?php if (!extension_loaded('apns')) die('skip apns not loaded'); ?>
--FILE--
<?php
require __DIR__ . '/apns.inc';

// --- Just enough of CodeIgniter 3 to load a library, a model and a controller. ---
define('BASEPATH', __DIR__ . '/');
define('APPPATH', dirname(__DIR__) . '/examples/codeigniter/application/');
$GLOBALS['ci_log'] = [];
function log_message($level, $message) { $GLOBALS['ci_log'][] = "$level: $message"; }
function show_error($message) { throw new RuntimeException("show_error: $message"); }
function &get_instance() { return CI_Controller::get_instance(); }

class CI_Config
{
    public $config = [];
    private $loaded = [];
    public function load($file, $use_sections = false)
    {
        if (isset($this->loaded[$file])) {
            return true;
        }
        $config = [];
        include APPPATH . "config/$file.php";
        $this->loaded[$file] = true;
        if ($use_sections) {
            $this->config[$file] = $config;
        } else {
            $this->config = array_merge($this->config, $config);
        }
        return true;
    }
    public function item($item, $index = '')
    {
        return $index === '' ? ($this->config[$item] ?? null) : ($this->config[$index][$item] ?? null);
    }
}

class CI_Loader
{
    public function library($name, $params = null)
    {
        $class = ucfirst($name);
        require_once APPPATH . "libraries/$class.php";
        get_instance()->{strtolower($name)} = new $class($params ?? []);
    }
    public function model($name)
    {
        $class = ucfirst($name);
        get_instance()->$name = new $class();
    }
}

#[AllowDynamicProperties]
class CI_Controller
{
    private static $instance;
    public $load;
    public $config;
    public function __construct()
    {
        self::$instance = $this;
        $this->load = new CI_Loader();
        $this->config = new CI_Config();
    }
    public static function &get_instance() { return self::$instance; }
}

/** The seed's init_mongo model, over an array: $db->devicetoken->find() yields ['_id' => token]. */
class Init_mongo
{
    public static $tokens = [];
    public function get_resouce($name)
    {
        $collection = new class { public function find() { foreach (Init_mongo::$tokens as $t) { yield ['_id' => $t]; } } };
        return (object) ['devicetoken' => $collection];
    }
}

// --- The test: 30 tokens in the collection (with the seed's spaces in some), 3 invalid. ---
$invalid = [apns_token(4), apns_token(15), apns_token(26)];
$sb = apns_sandbox_start(['--invalid-tokens', apns_invalid_tokens_file($invalid)]);
for ($i = 1; $i <= 30; $i++) {
    Init_mongo::$tokens[] = $i % 10 === 1 ? trim(chunk_split(apns_token($i), 8, ' ')) : apns_token($i);
}
putenv("APNS_GATEWAY={$sb['binary']}");
putenv("APNS_CERT={$sb['certs']}/client.pem");
putenv("APNS_CAFILE={$sb['certs']}/ca.pem");

require APPPATH . 'controllers/Push.php';
$controller = new Push();
apns_check('the library is loaded as $this->apns_push', $controller->apns_push instanceof Apns_push);
apns_check('its config comes from application/config/apns.php', $controller->config->item('expiry_seconds', 'apns') === 86400
    && $controller->config->item('gateway', 'apns') === $sb['binary']);

ob_start();
$controller->send();
$page = ob_get_clean();
$lines = explode('<br/>', $page);
echo preg_replace('/in [0-9.]+ s/', 'in N s', $lines[0]), "\n";
$failedLines = preg_grep('/^Failed: /', $lines);
sort($failedLines);
$want = array_map(fn($t) => "Failed: $t: 8-Invalid token", $invalid);
sort($want);
apns_check('the page lists exactly the 3 invalid tokens, status 8', $failedLines === $want, implode(' | ', $failedLines));
echo end($lines), "\n";
apns_check('log_message() got one line per rejected token', count(preg_grep('/^info: APNs rejected .*: 8-Invalid token$/', $GLOBALS['ci_log'])) === 3,
    implode(' | ', $GLOBALS['ci_log']));

$rows = apns_log($sb);
$valid = array_values(array_diff(array_map('apns_token', range(1, 30)), $invalid));
$tally = apns_tally($sb, $valid, $invalid);
printf("gateway log: rows=%d delivered=%d lost=%d duplicates=%d invalid=%d\n", $tally['rows'], $tally['delivered'],
    count($tally['lost']), $tally['duplicates'], $tally['invalid_logged']);
$payload = json_decode($rows[0]['payload'], true);
echo 'payload: ', json_encode($payload), "\n";
apns_check('expiry is a day ahead, as in the old code', abs($rows[0]['expiry'] - (time() + 86400)) < 60, (string) $rows[0]['expiry']);

// A gateway that is down: the controller reports it, no exception escapes.
putenv('APNS_GATEWAY=ssl://127.0.0.1:' . apns_free_port());
$down = new Push();
ob_start();
$down->send();
$page = ob_get_clean();
apns_check('gateway down: the page says so, naming host and port', str_starts_with($page, 'Push failed: ') && str_contains($page, '127.0.0.1'), $page);
?>
--EXPECT--
the library is loaded as $this->apns_push: ok
its config comes from application/config/apns.php: ok
Sent 30 notifications in N s
the page lists exactly the 3 invalid tokens, status 8: ok
Completed
log_message() got one line per rejected token: ok
gateway log: rows=27 delivered=27 lost=0 duplicates=0 invalid=0
payload: {"aps":{"alert":"apns test~","sound":"default","badge":1}}
expiry is a day ahead, as in the old code: ok
gateway down: the page says so, naming host and port: ok
