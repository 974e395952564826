<?php
/**
 * Plugin Name:       Relay SMS for WooCommerce
 * Plugin URI:        https://relay.example/woocommerce
 * Description:       SMS-marketing consent at checkout (classic and block) and abandoned-cart reminders, sent through the relay.
 * Version:           1.0.0
 * Requires at least: 6.3
 * Requires PHP:      7.4
 * Requires Plugins:  woocommerce
 * WC requires at least: 8.9
 * WC tested up to:   9.4
 * Author:            Relay
 * License:           GPL-2.0-or-later
 * Text Domain:       relay-sms
 *
 * @package RelaySms
 */

defined( 'ABSPATH' ) || exit;

define( 'RELAY_SMS_VERSION', '1.0.0' );
define( 'RELAY_SMS_FILE', __FILE__ );

require_once __DIR__ . '/includes/class-relay-sms-event-builder.php';
require_once __DIR__ . '/includes/class-relay-sms-consent.php';
require_once __DIR__ . '/includes/class-relay-sms-abandonment.php';
require_once __DIR__ . '/includes/class-relay-sms-settings.php';
require_once __DIR__ . '/includes/class-relay-sms-client.php';
require_once __DIR__ . '/includes/class-relay-sms-checkout.php';
require_once __DIR__ . '/includes/class-relay-sms-carts.php';
require_once __DIR__ . '/includes/class-relay-sms-cabinet.php';

// HPOS (custom order tables) and the cart/checkout blocks are supported.
add_action(
	'before_woocommerce_init',
	function () {
		if ( class_exists( '\Automattic\WooCommerce\Utilities\FeaturesUtil' ) ) {
			\Automattic\WooCommerce\Utilities\FeaturesUtil::declare_compatibility( 'custom_order_tables', RELAY_SMS_FILE, true );
			\Automattic\WooCommerce\Utilities\FeaturesUtil::declare_compatibility( 'cart_checkout_blocks', RELAY_SMS_FILE, true );
		}
	}
);

register_activation_hook( __FILE__, array( 'Relay_SMS_Carts', 'activate' ) );
register_deactivation_hook( __FILE__, array( 'Relay_SMS_Carts', 'deactivate' ) );

add_action(
	'plugins_loaded',
	function () {
		if ( ! class_exists( 'WooCommerce' ) ) {
			return;
		}
		Relay_SMS_Settings::init();
		Relay_SMS_Checkout::init();
		Relay_SMS_Carts::init();
		Relay_SMS_Cabinet::init();
		add_action( Relay_SMS_Client::FLUSH_HOOK, array( 'Relay_SMS_Client', 'flush' ) );
		add_action( Relay_SMS_Carts::SWEEP_HOOK, array( 'Relay_SMS_Client', 'flush' ), 20 );
	}
);
