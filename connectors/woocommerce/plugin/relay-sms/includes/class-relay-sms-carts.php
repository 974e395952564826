<?php
/**
 * Abandoned carts: capture (cart + phone) on the checkout page, report after the delay,
 * settle when an order is placed, restore from the reminder's link.
 *
 * Capture: on the classic checkout a small script posts the phone to admin-ajax when the
 * customer leaves the phone field; on the block checkout the Store API hook
 * `woocommerce_store_api_cart_update_customer_from_request` sees the billing phone as soon as
 * the block sends the address. Carts live in the table {prefix}relay_sms_carts; a WP-Cron
 * job every five minutes reports the due ones (WP-Cron runs on site traffic, so on a quiet
 * site a report can come a few minutes late).
 *
 * @package RelaySms
 */

defined( 'ABSPATH' ) || exit;

/**
 * Cart capture and reporting.
 */
class Relay_SMS_Carts {

	const SWEEP_HOOK  = 'relay_sms_cart_sweep';
	const SCHEDULE    = 'relay_sms_five_minutes';
	const SESSION_KEY = 'relay_sms_cart_id';
	const ORDER_META  = '_relay_sms_cart_id';
	const AJAX        = 'relay_sms_capture';

	/**
	 * The carts table.
	 *
	 * @return string
	 */
	private static function table() {
		global $wpdb;
		return $wpdb->prefix . 'relay_sms_carts';
	}

	/**
	 * Activation: create the table, schedule the sweep.
	 */
	public static function activate() {
		global $wpdb;
		require_once ABSPATH . 'wp-admin/includes/upgrade.php';
		$charset = $wpdb->get_charset_collate();
		dbDelta(
			'CREATE TABLE ' . self::table() . " (
			cart_id varchar(64) NOT NULL,
			phone varchar(64) NOT NULL DEFAULT '',
			name varchar(200) NOT NULL DEFAULT '',
			email varchar(254) NOT NULL DEFAULT '',
			items longtext NOT NULL,
			contents longtext NOT NULL,
			total decimal(19,4) NOT NULL DEFAULT 0,
			currency char(3) NOT NULL DEFAULT '',
			status varchar(16) NOT NULL DEFAULT 'open',
			updated_at bigint(20) unsigned NOT NULL,
			order_id bigint(20) unsigned NULL,
			PRIMARY KEY  (cart_id),
			KEY status_updated (status, updated_at)
			) $charset;"
		);
		if ( ! wp_next_scheduled( self::SWEEP_HOOK ) ) {
			wp_schedule_event( time() + 300, self::SCHEDULE, self::SWEEP_HOOK );
		}
	}

	/**
	 * Deactivation: stop the sweep (carts stay for a later activation).
	 */
	public static function deactivate() {
		wp_clear_scheduled_hook( self::SWEEP_HOOK );
		wp_clear_scheduled_hook( Relay_SMS_Client::FLUSH_HOOK );
	}

	/**
	 * Hooks.
	 */
	public static function init() {
		add_filter( 'cron_schedules', array( __CLASS__, 'schedules' ) );
		add_action( self::SWEEP_HOOK, array( __CLASS__, 'sweep' ) );
		add_action( 'wp_enqueue_scripts', array( __CLASS__, 'script' ) );
		add_action( 'wp_ajax_' . self::AJAX, array( __CLASS__, 'ajax_capture' ) );
		add_action( 'wp_ajax_nopriv_' . self::AJAX, array( __CLASS__, 'ajax_capture' ) );
		add_action( 'woocommerce_store_api_cart_update_customer_from_request', array( __CLASS__, 'block_capture' ), 10, 2 );
		add_action( 'wp_loaded', array( __CLASS__, 'restore' ) );
	}

	/**
	 * A five-minute WP-Cron schedule.
	 *
	 * @param array $schedules Schedules.
	 * @return array
	 */
	public static function schedules( $schedules ) {
		$schedules[ self::SCHEDULE ] = array(
			'interval' => 300,
			'display'  => 'Relay SMS: every 5 minutes',
		);
		return $schedules;
	}

	/**
	 * The cart id of this visitor's session (created when `create` is true).
	 *
	 * @param bool $create Create one if missing.
	 * @return string|null
	 */
	public static function session_cart_id( $create = true ) {
		if ( ! function_exists( 'WC' ) || ! WC()->session ) {
			return null;
		}
		$cart_id = WC()->session->get( self::SESSION_KEY );
		if ( ! $cart_id && $create ) {
			$cart_id = 'c-' . str_replace( '-', '', wp_generate_uuid4() );
			WC()->session->set( self::SESSION_KEY, $cart_id );
		}
		return $cart_id ? (string) $cart_id : null;
	}

	/**
	 * Classic checkout: the capture script.
	 */
	public static function script() {
		if ( ! function_exists( 'is_checkout' ) || ! is_checkout() || is_order_received_page() ) {
			return;
		}
		wp_enqueue_script( 'relay-sms-capture', plugins_url( 'assets/capture.js', RELAY_SMS_FILE ), array( 'jquery' ), RELAY_SMS_VERSION, true );
		wp_localize_script(
			'relay-sms-capture',
			'relaySmsCapture',
			array(
				'url'    => admin_url( 'admin-ajax.php' ),
				'action' => self::AJAX,
				'nonce'  => wp_create_nonce( self::AJAX ),
			)
		);
	}

	/**
	 * Classic checkout: admin-ajax capture of phone, name and e-mail.
	 */
	public static function ajax_capture() {
		check_ajax_referer( self::AJAX, 'nonce' );
		$field = function ( $key ) {
			return isset( $_POST[ $key ] ) ? sanitize_text_field( wp_unslash( $_POST[ $key ] ) ) : '';
		};
		self::capture( $field( 'phone' ), trim( $field( 'first_name' ) . ' ' . $field( 'last_name' ) ), $field( 'email' ) );
		wp_send_json_success();
	}

	/**
	 * Block checkout: the Store API updated the customer from the checkout form.
	 *
	 * @param WC_Customer     $customer Customer.
	 * @param WP_REST_Request $request  Request.
	 */
	public static function block_capture( $customer, $request ) {
		self::capture( $customer->get_billing_phone(), trim( $customer->get_billing_first_name() . ' ' . $customer->get_billing_last_name() ), $customer->get_billing_email() );
	}

	/**
	 * Store (or refresh) this session's cart with the phone typed.
	 *
	 * @param string $phone Phone.
	 * @param string $name  Name.
	 * @param string $email E-mail.
	 */
	public static function capture( $phone, $name, $email ) {
		global $wpdb;
		if ( ! Relay_SMS_Abandonment::has_phone( $phone ) || ! WC()->cart || WC()->cart->is_empty() ) {
			return;
		}
		$items    = array();
		$contents = array();
		foreach ( WC()->cart->get_cart() as $line ) {
			$items[]    = array(
				'name'     => $line['data'] ? $line['data']->get_name() : '',
				'quantity' => (int) $line['quantity'],
			);
			$contents[] = array(
				'product_id'   => (int) $line['product_id'],
				'variation_id' => (int) $line['variation_id'],
				'quantity'     => (int) $line['quantity'],
				'variation'    => isset( $line['variation'] ) ? (array) $line['variation'] : array(),
			);
		}
		$cart_id = self::session_cart_id();
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery -- our own table.
		$wpdb->replace(
			self::table(),
			array(
				'cart_id'    => $cart_id,
				'phone'      => substr( $phone, 0, 64 ),
				'name'       => substr( $name, 0, 200 ),
				'email'      => substr( (string) $email, 0, 254 ),
				'items'      => wp_json_encode( $items ),
				'contents'   => wp_json_encode( $contents ),
				'total'      => (float) WC()->cart->get_total( 'edit' ),
				'currency'   => get_woocommerce_currency(),
				'status'     => Relay_SMS_Abandonment::OPEN,
				'updated_at' => time(),
			)
		);
	}

	/**
	 * WP-Cron: report the carts left for the configured delay.
	 */
	public static function sweep() {
		global $wpdb;
		$settings = Relay_SMS_Settings::get();
		$cutoff   = time() - 60 * $settings['cart_delay'];
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery -- our own table.
		$rows    = $wpdb->get_results( $wpdb->prepare( 'SELECT * FROM ' . self::table() . ' WHERE status = %s AND updated_at <= %d LIMIT 200', Relay_SMS_Abandonment::OPEN, $cutoff ), ARRAY_A );
		$builder = new Relay_SMS_Event_Builder( home_url( '/' ) );
		foreach ( $rows as &$row ) {
			$row['items'] = json_decode( $row['items'], true );
		}
		unset( $row );
		foreach ( Relay_SMS_Abandonment::due( $rows, time(), $settings['cart_delay'] ) as $cart ) {
			$url = Relay_SMS_Abandonment::recovery_url( home_url( '/' ), $cart['cart_id'], wp_salt( 'auth' ) );
			Relay_SMS_Client::queue( $builder->cart_abandoned( $cart, $settings['cart_delay'], $url ) );
			// phpcs:ignore WordPress.DB.DirectDatabaseQuery -- our own table.
			$wpdb->update( self::table(), array( 'status' => Relay_SMS_Abandonment::REPORTED ), array( 'cart_id' => $cart['cart_id'], 'status' => Relay_SMS_Abandonment::OPEN ) );
		}
	}

	/**
	 * An order was placed: settle its cart (converted, or recovered → cart.recovered).
	 *
	 * @param WC_Order $order Order.
	 */
	public static function order_placed( $order ) {
		global $wpdb;
		$cart_id = (string) $order->get_meta( self::ORDER_META );
		if ( '' === $cart_id ) {
			return;
		}
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery -- our own table.
		$cart = $wpdb->get_row( $wpdb->prepare( 'SELECT * FROM ' . self::table() . ' WHERE cart_id = %s', $cart_id ), ARRAY_A );
		if ( $cart ) {
			$status = Relay_SMS_Abandonment::on_order( $cart['status'] );
			// phpcs:ignore WordPress.DB.DirectDatabaseQuery -- our own table.
			$wpdb->update( self::table(), array( 'status' => $status, 'order_id' => $order->get_id() ), array( 'cart_id' => $cart_id ) );
			if ( Relay_SMS_Abandonment::RECOVERED === $status ) {
				$builder = new Relay_SMS_Event_Builder( home_url( '/' ) );
				Relay_SMS_Client::queue( $builder->cart_recovered( $cart, (string) $order->get_id(), time() ) );
			}
		}
		if ( WC()->session ) {
			WC()->session->set( self::SESSION_KEY, null ); // the next cart is a new cart
		}
	}

	/**
	 * The reminder's link: put the cart back and go to the checkout.
	 */
	public static function restore() {
		// phpcs:ignore WordPress.Security.NonceVerification.Recommended -- the HMAC key is the check.
		if ( empty( $_GET['relay-sms-cart'] ) || empty( $_GET['relay-sms-key'] ) || ! function_exists( 'WC' ) || ! WC()->cart ) {
			return;
		}
		global $wpdb;
		$cart_id = sanitize_text_field( wp_unslash( $_GET['relay-sms-cart'] ) ); // phpcs:ignore WordPress.Security.NonceVerification.Recommended
		$key     = sanitize_text_field( wp_unslash( $_GET['relay-sms-key'] ) ); // phpcs:ignore WordPress.Security.NonceVerification.Recommended
		if ( ! Relay_SMS_Abandonment::valid_key( $cart_id, $key, wp_salt( 'auth' ) ) ) {
			return;
		}
		// phpcs:ignore WordPress.DB.DirectDatabaseQuery -- our own table.
		$contents = $wpdb->get_var( $wpdb->prepare( 'SELECT contents FROM ' . self::table() . ' WHERE cart_id = %s', $cart_id ) );
		$lines    = json_decode( (string) $contents, true );
		if ( ! is_array( $lines ) ) {
			return;
		}
		WC()->cart->empty_cart();
		foreach ( $lines as $line ) {
			WC()->cart->add_to_cart( (int) $line['product_id'], (int) $line['quantity'], (int) $line['variation_id'], (array) $line['variation'] );
		}
		WC()->session->set( self::SESSION_KEY, $cart_id );
		wp_safe_redirect( wc_get_checkout_url() );
		exit;
	}
}
