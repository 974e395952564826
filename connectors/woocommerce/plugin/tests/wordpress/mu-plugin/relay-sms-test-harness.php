<?php
/**
 * Test harness (must-use plugin of the throw-away test site only; never shipped).
 *
 * WooCommerce is not installable here, so this stands in for the few parts of it the plugin
 * touches: the `WooCommerce` class and `WC()` with a session and a cart, `wc_get_logger()`,
 * `get_woocommerce_currency()`, the "WooCommerce" admin menu, the shop_manager role — and
 * for the Action Scheduler API that WooCommerce bundles (`as_schedule_single_action`,
 * `as_schedule_recurring_action`, `as_enqueue_async_action`, `as_next_scheduled_action`,
 * `as_unschedule_all_actions`), kept in a table {prefix}as_test_actions and run by
 * relay_sms_test_run_actions( $now ). In production all of these come with WooCommerce.
 *
 * Setting RELAY_SMS_TEST_NO_AS=1 in the environment leaves the Action Scheduler API out, so
 * the plugin's WP-Cron fallback runs instead.
 *
 * @package RelaySms
 */

defined( 'ABSPATH' ) || exit;

// No mail leaves the test site.
if ( ! function_exists( 'wp_mail' ) ) {
	/**
	 * Mail stand-in.
	 *
	 * @return bool
	 */
	function wp_mail() {
		return true;
	}
}

// The test site has no network: WordPress must not look for core, plugin or theme updates
// (it would warn that wordpress.org cannot be reached).
foreach ( array( '_maybe_update_core', '_maybe_update_plugins', '_maybe_update_themes', '_wp_check_for_scheduled_split_terms' ) as $relay_sms_hook ) {
	remove_action( 'admin_init', $relay_sms_hook );
}
remove_action( 'wp_version_check', 'wp_version_check' );
remove_action( 'wp_update_plugins', 'wp_update_plugins' );
remove_action( 'wp_update_themes', 'wp_update_themes' );
remove_action( 'load-plugins.php', 'wp_update_plugins' );
remove_action( 'load-themes.php', 'wp_update_themes' );
remove_action( 'load-update-core.php', 'wp_update_plugins' );
remove_action( 'load-update-core.php', 'wp_update_themes' );
add_filter( 'pre_site_transient_update_core', '__return_null' );

if ( ! class_exists( 'WooCommerce' ) ) {

	/**
	 * WooCommerce stand-in.
	 */
	final class WooCommerce {
		/**
		 * Session.
		 *
		 * @var Relay_SMS_Test_Session|null
		 */
		public $session;
		/**
		 * Cart.
		 *
		 * @var Relay_SMS_Test_Cart|null
		 */
		public $cart;
		/**
		 * The one instance.
		 *
		 * @var WooCommerce|null
		 */
		public static $instance;
	}

	/**
	 * Session stand-in (WC_Session's get/set).
	 */
	final class Relay_SMS_Test_Session {
		/**
		 * Values.
		 *
		 * @var array
		 */
		public $data = array();

		/**
		 * Get.
		 *
		 * @param string $key Key.
		 * @return mixed
		 */
		public function get( $key ) {
			return isset( $this->data[ $key ] ) ? $this->data[ $key ] : null;
		}

		/**
		 * Set.
		 *
		 * @param string $key   Key.
		 * @param mixed  $value Value.
		 */
		public function set( $key, $value ) {
			$this->data[ $key ] = $value;
		}
	}

	/**
	 * A product in a cart line.
	 */
	final class Relay_SMS_Test_Product {
		/**
		 * Name.
		 *
		 * @var string
		 */
		private $name;

		/**
		 * Constructor.
		 *
		 * @param string $name Name.
		 */
		public function __construct( $name ) {
			$this->name = $name;
		}

		/**
		 * Name.
		 *
		 * @return string
		 */
		public function get_name() {
			return $this->name;
		}
	}

	/**
	 * Cart stand-in (WC_Cart's methods the plugin calls).
	 */
	final class Relay_SMS_Test_Cart {
		/**
		 * Lines.
		 *
		 * @var array
		 */
		public $lines = array();

		/**
		 * Add a line.
		 *
		 * @param int   $product_id   Product.
		 * @param int   $quantity     Quantity.
		 * @param int   $variation_id Variation.
		 * @param array $variation    Attributes.
		 * @param float $price        Price (test only).
		 * @param string $name        Name (test only).
		 * @return string
		 */
		public function add_to_cart( $product_id, $quantity = 1, $variation_id = 0, $variation = array(), $price = 10.0, $name = '' ) {
			$key                 = md5( $product_id . '-' . $variation_id . '-' . count( $this->lines ) );
			$this->lines[ $key ] = array(
				'product_id'   => (int) $product_id,
				'variation_id' => (int) $variation_id,
				'variation'    => $variation,
				'quantity'     => (int) $quantity,
				'data'         => new Relay_SMS_Test_Product( '' === $name ? 'Product #' . $product_id : $name ),
				'price'        => (float) $price,
			);
			return $key;
		}

		/**
		 * Lines.
		 *
		 * @return array
		 */
		public function get_cart() {
			return $this->lines;
		}

		/**
		 * Empty?
		 *
		 * @return bool
		 */
		public function is_empty() {
			return empty( $this->lines );
		}

		/**
		 * Empty it.
		 */
		public function empty_cart() {
			$this->lines = array();
		}

		/**
		 * Total.
		 *
		 * @return float
		 */
		public function get_total() {
			$total = 0.0;
			foreach ( $this->lines as $line ) {
				$total += $line['price'] * $line['quantity'];
			}
			return $total;
		}
	}

	/**
	 * The WooCommerce instance.
	 *
	 * @return WooCommerce
	 */
	function WC() { // phpcs:ignore WordPress.NamingConventions.ValidFunctionName
		if ( null === WooCommerce::$instance ) {
			WooCommerce::$instance = new WooCommerce();
		}
		return WooCommerce::$instance;
	}

	/**
	 * Currency.
	 *
	 * @return string
	 */
	function get_woocommerce_currency() {
		return 'BYN';
	}

	/**
	 * Checkout URL.
	 *
	 * @return string
	 */
	function wc_get_checkout_url() {
		return home_url( '/checkout/' );
	}

	/**
	 * Logger stand-in: keeps the lines in $GLOBALS['relay_sms_test_log'].
	 */
	final class Relay_SMS_Test_Logger {
		/**
		 * Log.
		 *
		 * @param string $level   Level.
		 * @param string $message Message.
		 * @param array  $context Context.
		 */
		public function log( $level, $message, $context = array() ) {
			$GLOBALS['relay_sms_test_log'][] = array( $level, $message, $context );
		}

		/**
		 * Warning.
		 *
		 * @param string $message Message.
		 * @param array  $context Context.
		 */
		public function warning( $message, $context = array() ) {
			$this->log( 'warning', $message, $context );
		}
	}

	/**
	 * Logger.
	 *
	 * @return Relay_SMS_Test_Logger
	 */
	function wc_get_logger() {
		return new Relay_SMS_Test_Logger();
	}

	// WooCommerce's top-level menu, which the plugin's page hangs under.
	add_action(
		'admin_menu',
		function () {
			add_menu_page( 'WooCommerce', 'WooCommerce', 'manage_woocommerce', 'woocommerce', '__return_null', 'dashicons-cart', 55 );
		},
		9
	);
}

if ( ! getenv( 'RELAY_SMS_TEST_NO_AS' ) && ! function_exists( 'as_schedule_single_action' ) ) {

	/**
	 * The actions table.
	 *
	 * @return string
	 */
	function relay_sms_test_actions_table() {
		global $wpdb;
		return $wpdb->prefix . 'as_test_actions';
	}

	/**
	 * Create the actions table (the harness calls this once after installing WordPress).
	 */
	function relay_sms_test_actions_install() {
		global $wpdb;
		$wpdb->query( 'CREATE TABLE IF NOT EXISTS ' . relay_sms_test_actions_table() . " (
			id bigint unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY,
			hook varchar(191) NOT NULL, args varchar(191) NOT NULL, grp varchar(191) NOT NULL DEFAULT '',
			scheduled bigint NOT NULL, recurrence int NOT NULL DEFAULT 0,
			status varchar(16) NOT NULL DEFAULT 'pending', KEY hook_status (hook, status)
		)" );
	}

	/**
	 * Add a pending action.
	 *
	 * @param int    $when       Unix time.
	 * @param string $hook       Hook.
	 * @param array  $args       Arguments.
	 * @param string $group      Group.
	 * @param int    $recurrence Seconds (0: once).
	 * @return int
	 */
	function relay_sms_test_add_action( $when, $hook, $args, $group, $recurrence = 0 ) {
		global $wpdb;
		$wpdb->insert(
			relay_sms_test_actions_table(),
			array(
				'hook'       => $hook,
				'args'       => wp_json_encode( array_values( (array) $args ) ),
				'grp'        => (string) $group,
				'scheduled'  => (int) $when,
				'recurrence' => (int) $recurrence,
			)
		);
		return (int) $wpdb->insert_id;
	}

	/**
	 * Action Scheduler API: one action at a time.
	 *
	 * @param int    $timestamp When.
	 * @param string $hook      Hook.
	 * @param array  $args      Arguments.
	 * @param string $group     Group.
	 * @return int
	 */
	function as_schedule_single_action( $timestamp, $hook, $args = array(), $group = '' ) {
		return relay_sms_test_add_action( $timestamp, $hook, $args, $group );
	}

	/**
	 * Action Scheduler API: as soon as possible.
	 *
	 * @param string $hook  Hook.
	 * @param array  $args  Arguments.
	 * @param string $group Group.
	 * @return int
	 */
	function as_enqueue_async_action( $hook, $args = array(), $group = '' ) {
		return relay_sms_test_add_action( time(), $hook, $args, $group );
	}

	/**
	 * Action Scheduler API: every `$interval` seconds.
	 *
	 * @param int    $timestamp First run.
	 * @param int    $interval  Seconds.
	 * @param string $hook      Hook.
	 * @param array  $args      Arguments.
	 * @param string $group     Group.
	 * @return int
	 */
	function as_schedule_recurring_action( $timestamp, $interval, $hook, $args = array(), $group = '' ) {
		return relay_sms_test_add_action( $timestamp, $hook, $args, $group, $interval );
	}

	/**
	 * Action Scheduler API: the next pending run (false: none).
	 *
	 * @param string     $hook  Hook.
	 * @param array|null $args  Arguments (null: any).
	 * @param string     $group Group ('' any).
	 * @return int|bool
	 */
	function as_next_scheduled_action( $hook, $args = null, $group = '' ) {
		global $wpdb;
		$sql    = 'SELECT scheduled FROM ' . relay_sms_test_actions_table() . " WHERE hook = %s AND status IN ('pending', 'running')";
		$params = array( $hook );
		if ( null !== $args ) {
			$sql     .= ' AND args = %s';
			$params[] = wp_json_encode( array_values( (array) $args ) );
		}
		if ( '' !== $group ) {
			$sql     .= ' AND grp = %s';
			$params[] = $group;
		}
		$when = $wpdb->get_var( $wpdb->prepare( $sql . ' ORDER BY scheduled LIMIT 1', $params ) );
		return null === $when ? false : (int) $when;
	}

	/**
	 * Action Scheduler API: cancel pending actions (all of a hook when `$args` is empty).
	 *
	 * @param string $hook  Hook.
	 * @param array  $args  Arguments.
	 * @param string $group Group.
	 */
	function as_unschedule_all_actions( $hook, $args = array(), $group = '' ) {
		global $wpdb;
		$sql    = 'UPDATE ' . relay_sms_test_actions_table() . " SET status = 'canceled' WHERE hook = %s AND status = 'pending'";
		$params = array( $hook );
		if ( ! empty( $args ) ) {
			$sql     .= ' AND args = %s';
			$params[] = wp_json_encode( array_values( (array) $args ) );
		}
		if ( '' !== $group ) {
			$sql     .= ' AND grp = %s';
			$params[] = $group;
		}
		$wpdb->query( $wpdb->prepare( $sql, $params ) );
	}

	/**
	 * The runner: one queue run, like Action Scheduler's: the pending actions due at `$now`
	 * when the run starts, oldest first; actions scheduled while it runs (a retry, the next
	 * sweep) wait for the next run. Returns how many ran.
	 *
	 * @param int|null $now Unix time (the future, to skip waiting); null: now.
	 * @return int
	 */
	function relay_sms_test_run_actions( $now = null ) {
		global $wpdb;
		$now   = null === $now ? time() : (int) $now;
		$table = relay_sms_test_actions_table();
		$ids   = $wpdb->get_col( $wpdb->prepare( "SELECT id FROM $table WHERE status = 'pending' AND scheduled <= %d ORDER BY scheduled, id", $now ) );
		$ran   = 0;
		foreach ( $ids as $id ) {
			$action = $wpdb->get_row( $wpdb->prepare( "SELECT * FROM $table WHERE id = %d AND status = 'pending'", $id ), ARRAY_A );
			if ( ! $action ) {
				continue; // canceled by an earlier action of this run.
			}
			$wpdb->update( $table, array( 'status' => 'running' ), array( 'id' => $action['id'] ) );
			do_action_ref_array( $action['hook'], json_decode( $action['args'], true ) );
			$wpdb->update( $table, array( 'status' => 'complete' ), array( 'id' => $action['id'] ) );
			if ( (int) $action['recurrence'] > 0 ) {
				$next = (int) $action['scheduled'] + (int) $action['recurrence'];
				while ( $next <= $now ) {
					$next += (int) $action['recurrence'];
				}
				relay_sms_test_add_action( $next, $action['hook'], json_decode( $action['args'], true ), $action['grp'], (int) $action['recurrence'] );
			}
			++$ran;
		}
		return $ran;
	}
}
